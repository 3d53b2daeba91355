// Simulation models of iCE40 primitives that Yosys ships only as black boxes (share/ice40/cells_sim.v
// has the LUTs, carries, flip-flops, I/O, SB_MAC16, SB_RAM40_4K and SB_SPRAM256KA; its PLLs are
// empty shells, which sim.runner.netlist_cell_models leaves out for these), for the post-synthesis
// check of the iCEBreaker netlist (sim/soc.py).

// SB_PLL40_PAD (the one PLL fpga/pll.py instantiates): the output is modelled as the input clock,
// and LOCK rises after 16 input cycles (the SoC holds reset until it does). The frequency synthesis
// is not simulated: the testbench drives the input at the core clock the PLL would make, and the
// UART's bit time is in core cycles. A bypassed or reset PLL never locks here (the SoC would stay in reset: the session
// fails), and the dynamic delay and external feedback are not modelled.
module SB_PLL40_PAD(
    input PACKAGEPIN, EXTFEEDBACK, BYPASS, RESETB, LATCHINPUTVALUE, SDI, SCLK,
    input [7:0] DYNAMICDELAY,
    output PLLOUTCORE, PLLOUTGLOBAL, LOCK, SDO
);
    parameter FEEDBACK_PATH = "SIMPLE";
    parameter DELAY_ADJUSTMENT_MODE_FEEDBACK = "FIXED";
    parameter DELAY_ADJUSTMENT_MODE_RELATIVE = "FIXED";
    parameter SHIFTREG_DIV_MODE = 1'b0;
    parameter FDA_FEEDBACK = 4'b0000;
    parameter FDA_RELATIVE = 4'b0000;
    parameter PLLOUT_SELECT = "GENCLK";
    parameter DIVR = 4'b0000;
    parameter DIVF = 7'b0000000;
    parameter DIVQ = 3'b000;
    parameter FILTER_RANGE = 3'b000;
    parameter ENABLE_ICEGATE = 1'b0;
    parameter TEST_MODE = 1'b0;
    parameter EXTERNAL_DIVIDE_FACTOR = 1;
    sb_pll40_model pll(.clk_in(PACKAGEPIN), .bypass(BYPASS), .resetb(RESETB), .out(PLLOUTCORE), .lock(LOCK));
    assign PLLOUTGLOBAL = PLLOUTCORE;
    assign SDO = 1'b0;
endmodule

module sb_pll40_model(input clk_in, bypass, resetb, output out, output lock);
    reg [4:0] count = 5'd0;
    always @(posedge clk_in)
        if (!count[4]) count <= count + 5'd1;
    assign out = clk_in;
    assign lock = count[4] & !bypass & resetb;  // bypassed or reset: no lock, the SoC stays in reset
endmodule
