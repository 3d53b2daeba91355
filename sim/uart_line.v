// The UART line to a served SoC (`edgesplit serve-sim`, sim/cocotb_serve.py), as the top level
// around it. Python hands it up to 64 bytes at a time, which it sends on the SoC's rx, 8N1 at DIV
// cycles a bit, and reads what the SoC sends on tx from a ring of the last 256 bytes, each bit
// sampled near its middle. So Python wakes once a chunk, not once a bit: the line runs at the
// simulator's speed.
`default_nettype none
module uart_line #(parameter integer DIV = 4) (
    input  wire          clk,
    input  wire          rst,
    input  wire [511:0]  send_data,   // byte i in bits 8i+7..8i
    input  wire [6:0]    send_count,  // bytes in send_data, 1..64
    input  wire          send_go,     // toggled: send the chunk
    output wire          send_busy,
    output reg  [2047:0] recv_ring,   // the SoC's byte n in bits 8(n mod 256)+7..8(n mod 256)
    output reg  [31:0]   recv_count   // bytes the SoC has sent
);
    reg rx = 1'b1;
    wire tx;
    edge_soc soc (.clk(clk), .rst(rst), .rx(rx), .tx(tx));

    // to the SoC: a start bit, 8 data bits LSB first, a stop bit, DIV cycles each
    reg go_seen = 1'b0, sending = 1'b0;
    reg [6:0] idx = 7'd0;
    reg [3:0] sbit = 4'd0;  // 0 the start bit, 1..8 data bit sbit-1, 9 the stop bit
    reg [15:0] stick = 16'd0;
    wire [7:0] cur = send_data[idx * 8 +: 8];
    assign send_busy = sending || send_go != go_seen;
    always @(posedge clk) begin
        if (!sending) begin
            rx <= 1'b1;
            if (send_go != go_seen) begin
                go_seen <= send_go;
                if (send_count != 7'd0) begin
                    sending <= 1'b1; idx <= 7'd0; sbit <= 4'd0; stick <= 16'd0; rx <= 1'b0;
                end
            end
        end else if (stick != DIV - 1) begin
            stick <= stick + 16'd1;
        end else begin
            stick <= 16'd0;
            if (sbit != 4'd9) begin
                sbit <= sbit + 4'd1;
                rx <= sbit == 4'd8 ? 1'b1 : cur[sbit[2:0]];
            end else if (idx + 7'd1 == send_count) begin
                sending <= 1'b0;
            end else begin
                idx <= idx + 7'd1; sbit <= 4'd0; rx <= 1'b0;
            end
        end
    end

    // from the SoC: a low tx starts a byte; samples DIV/2 cycles on, then every DIV cycles; a byte
    // whose stop bit is low is dropped, as a UART drops a framing error
    reg receiving = 1'b0;
    reg [3:0] rbit = 4'd0;  // 0 the start bit, 1..8 data bits, 9 the stop bit
    reg [15:0] rtick = 16'd0;
    reg [7:0] rbyte = 8'd0;
    initial begin recv_ring = 2048'd0; recv_count = 32'd0; end
    always @(posedge clk) begin
        if (!receiving) begin
            if (!tx) begin
                receiving <= 1'b1; rbit <= 4'd0; rtick <= DIV > 1 ? DIV / 2 - 1 : 0;
            end
        end else if (rtick != 16'd0) begin
            rtick <= rtick - 16'd1;
        end else begin
            rtick <= DIV - 1;
            rbit <= rbit + 4'd1;
            if (rbit == 4'd0) begin
                if (tx) receiving <= 1'b0;  // a glitch, not a start bit
            end else if (rbit != 4'd9) begin
                rbyte <= {tx, rbyte[7:1]};
            end else begin
                receiving <= 1'b0;
                if (tx) begin
                    recv_ring[recv_count[7:0] * 8 +: 8] <= rbyte;
                    recv_count <= recv_count + 32'd1;
                end
            end
        end
    end
endmodule
