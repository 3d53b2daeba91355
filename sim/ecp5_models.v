// Simulation models of ECP5 primitives that Yosys ships no model of (share/ecp5/cells_sim.v has the
// LUTs, flip-flops, carry chains, distributed RAM and I/O; its DP16KD is an empty shell of ports and
// parameters, which sim.runner.netlist_cell_models leaves out for ours), for the post-synthesis
// check of the ULX3S netlist (sim/soc.py). Each models the configurations the edgesplit netlist
// uses and stops the simulation on any other, so a netlist they do not cover is never "checked".

// MULT18X18D: an 18x18 multiplier, signed or unsigned per operand (SIGNEDA, SIGNEDB), its product
// straight out or through the output register (REG_OUTPUT_CLK "CLK0", CE0, RST0, synchronous reset),
// as the Lattice ECP5 sysDSP user guide (FPGA-TN-02205) describes them. Input and pipeline registers,
// cascades and the shift-in paths are not modelled: a netlist that enables them stops here.
module MULT18X18D(
    input A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
    input B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
    input C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
    input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input CLK3, CLK2, CLK1, CLK0, CE3, CE2, CE1, CE0, RST3, RST2, RST1, RST0,
    input SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9, SRIA8, SRIA7, SRIA6,
    input SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0,
    input SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9, SRIB8, SRIB7, SRIB6,
    input SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0,
    output SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6,
    output SROA5, SROA4, SROA3, SROA2, SROA1, SROA0,
    output SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6,
    output SROB5, SROB4, SROB3, SROB2, SROB1, SROB0,
    output ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4,
    output ROA3, ROA2, ROA1, ROA0,
    output ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4,
    output ROB3, ROB2, ROB1, ROB0,
    output ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4,
    output ROC3, ROC2, ROC1, ROC0,
    output P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
    output P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0,
    output SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    wire signed [35:0] a_ext = SIGNEDA ? {{18{a[17]}}, a} : {18'b0, a};
    wire signed [35:0] b_ext = SIGNEDB ? {{18{b[17]}}, b} : {18'b0, b};
    wire [35:0] product = a_ext * b_ext;
    reg [35:0] p_q;
    wire [35:0] p = (REG_OUTPUT_CLK == "CLK0") ? p_q : product;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
            P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
    assign SIGNEDP = SIGNEDA | SIGNEDB;
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6,
            SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6,
            SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4,
            ROA3, ROA2, ROA1, ROA0} = a;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4,
            ROB3, ROB2, ROB1, ROB0} = b;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4,
            ROC3, ROC2, ROC1, ROC0} = 18'b0;
    always @(posedge CLK0)
        if (RST0) p_q <= 36'b0;
        else if (CE0) p_q <= product;
    initial begin
        if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE"
                || REG_PIPELINE_CLK != "NONE" || (REG_OUTPUT_CLK != "NONE" && REG_OUTPUT_CLK != "CLK0")
                || REG_OUTPUT_CE != "CE0" || REG_OUTPUT_RST != "RST0" || RESETMODE != "SYNC"
                || MULT_BYPASS != "DISABLED") begin
            $display("MULT18X18D %m: a configuration this model does not cover");
            $finish;
        end
    end
endmodule

// EHXPLLL: the PLL's output is modelled as its input clock, and LOCK rises after 16 input cycles
// (the SoC holds reset until it does). The frequency synthesis is not simulated: the testbench
// drives the input at the core clock the PLL would make, and the UART's bit time is in core cycles.
module EHXPLLL(
    input CLKI, CLKFB, PHASESEL1, PHASESEL0, PHASEDIR, PHASESTEP, PHASELOADREG, STDBY, PLLWAKESYNC, RST,
    input ENCLKOP, ENCLKOS, ENCLKOS2, ENCLKOS3,
    output CLKOP, CLKOS, CLKOS2, CLKOS3, LOCK, INTLOCK, REFCLK, CLKINTFB
);
    parameter CLKI_DIV = 1;
    parameter CLKFB_DIV = 1;
    parameter CLKOP_DIV = 8;
    parameter CLKOS_DIV = 8;
    parameter CLKOS2_DIV = 8;
    parameter CLKOS3_DIV = 8;
    parameter CLKOP_ENABLE = "ENABLED";
    parameter CLKOS_ENABLE = "DISABLED";
    parameter CLKOS2_ENABLE = "DISABLED";
    parameter CLKOS3_ENABLE = "DISABLED";
    parameter CLKOP_CPHASE = 0;
    parameter CLKOS_CPHASE = 0;
    parameter CLKOS2_CPHASE = 0;
    parameter CLKOS3_CPHASE = 0;
    parameter CLKOP_FPHASE = 0;
    parameter CLKOS_FPHASE = 0;
    parameter CLKOS2_FPHASE = 0;
    parameter CLKOS3_FPHASE = 0;
    parameter FEEDBK_PATH = "CLKOP";
    parameter CLKOP_TRIM_POL = "RISING";
    parameter CLKOP_TRIM_DELAY = 0;
    parameter CLKOS_TRIM_POL = "RISING";
    parameter CLKOS_TRIM_DELAY = 0;
    parameter OUTDIVIDER_MUXA = "DIVA";
    parameter OUTDIVIDER_MUXB = "DIVB";
    parameter OUTDIVIDER_MUXC = "DIVC";
    parameter OUTDIVIDER_MUXD = "DIVD";
    parameter PLL_LOCK_MODE = 0;
    parameter PLL_LOCK_DELAY = 200;
    parameter STDBY_ENABLE = "DISABLED";
    parameter REFIN_RESET = "DISABLED";
    parameter SYNC_ENABLE = "DISABLED";
    parameter INT_LOCK_STICKY = "ENABLED";
    parameter DPHASE_SOURCE = "DISABLED";
    parameter PLLRST_ENA = "DISABLED";
    parameter INTFB_WAKE = "DISABLED";
    reg [4:0] count = 5'd0;
    always @(posedge CLKI)
        if (!count[4]) count <= count + 5'd1;
    assign CLKOP = CLKI;
    assign CLKOS = 1'b0;
    assign CLKOS2 = 1'b0;
    assign CLKOS3 = 1'b0;
    assign LOCK = count[4];
    assign INTLOCK = count[4];
    assign REFCLK = CLKI;
    assign CLKINTFB = 1'b0;
endmodule

// DP16KD: the 18 Kbit block RAM (EBR), two ports A and B on one array, as the Lattice ECP5 memory
// usage guide (FPGA-TN-02204, was TN1264) describes it, for the configurations rtl/bram.py
// instantiates (16Kx1, 8Kx2, 4Kx4; port A writes through no register, port B reads through the
// output register) and those Yosys's own map (share/lattice/brams_map_16kd.v) makes of inferred
// memories: widths 1, 2, 4, 9 and 18 per port, and 36 in pseudo-dual-port mode (port A writes the
// word on DIB:DIA, port B reads it on DOB:DOA).
//
// The array is 2048 9-bit words. A port DATA_WIDTH bits wide takes its address on AD13..ADlog2(w)
// (9 bits: AD13..AD3, 18: AD13..AD4, 36: AD13..AD5); a 1-, 2- or 4-bit word is a slice of the low 8
// bits of 9-bit word AD13..AD3 (bit AD2..AD0 / pair AD2..AD1 / nibble AD2), the ninth bit being
// reachable only at 9 bits and wider; an 18-bit word is 9-bit words 2n (DI/DO 8..0) and 2n+1
// (17..9), written per byte where AD0 / AD1 are high (write enable WE also needed); a 36-bit word
// is 9-bit words 4n..4n+3, written where AD0..AD3 are high. This is the word layout Yosys's
// memory_libmap assumes (each width two of the next narrower plus any extra bit) and its map's
// byte enables. INITVAL_00..INITVAL_3F: 16 18-bit words each, word j in bits 20j+17..20j (bits
// 20j+19..20j+18 unused), INITVAL_ii word j being 18-bit word 16ii+j (so 9-bit words 32ii+2j,
// 32ii+2j+1), as Yosys's map packs INIT and nextpnr's ECP5 bitstream writer unpacks it. Only bit
// vectors are taken (Yosys's form), not Lattice's "0x..." strings.
//
// Each port works at the rising edge of its clock (the falling one with CLKxMUX "INV") where its
// clock enable CEx is high and its chip selects CSx2..CSx0 equal CSDECODE_x ("0b" and three binary
// digits, CS2 first): with WEx it writes, and its read data is the word at the address (WEx low),
// the word unchanged (WEx high, WRITEMODE_x "NORMAL"), the word as written (WRITETHROUGH) or the
// word before the write (READBEFOREWRITE). REGMODE_x "NOREG": DOx is that read data; "OUTREG": an
// output register, clock-enabled by OCEx, takes it at the next edge (one cycle more latency). RSTx
// clears the read data and the output register, at the edge (RESETMODE "SYNC", not gated by CEx
// or OCEx) or at once (ASYNC), and leaves writes alone; ASYNC_RESET_RELEASE is not modelled.
// Outputs and read data start at zero (GSR is not modelled). Unused DO bits read 0.
//
// A port that reads a word the other writes at the same edge gets the word before the write (the
// old data, what RegisteredRAM documents); the silicon does not specify this collision (Yosys's
// cell description promises nothing there: around an inferred memory that needs the old or the new
// word, Yosys adds logic that delays the write or bypasses the read). Both ports writing one bit at the same edge: either write may win here, and in the
// silicon too. A pin mux (DIA0MUX and the like) other than CLKxMUX set to anything but its
// default, or a parameter value outside these, stops the simulation.
/* verilator lint_off WIDTHEXPAND */  // string parameters compared with literals of other lengths
module DP16KD(
    input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input CEA, OCEA, CLKA, WEA, RSTA,
    input CSA2, CSA1, CSA0,
    output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input CEB, OCEB, CLKB, WEB, RSTB,
    input CSB2, CSB1, CSB0,
    output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter DIA17MUX = "DIA17"; parameter DIA16MUX = "DIA16"; parameter DIA15MUX = "DIA15"; parameter DIA14MUX = "DIA14";
    parameter DIA13MUX = "DIA13"; parameter DIA12MUX = "DIA12"; parameter DIA11MUX = "DIA11"; parameter DIA10MUX = "DIA10";
    parameter DIA9MUX = "DIA9"; parameter DIA8MUX = "DIA8"; parameter DIA7MUX = "DIA7"; parameter DIA6MUX = "DIA6";
    parameter DIA5MUX = "DIA5"; parameter DIA4MUX = "DIA4"; parameter DIA3MUX = "DIA3"; parameter DIA2MUX = "DIA2";
    parameter DIA1MUX = "DIA1"; parameter DIA0MUX = "DIA0"; parameter ADA13MUX = "ADA13"; parameter ADA12MUX = "ADA12";
    parameter ADA11MUX = "ADA11"; parameter ADA10MUX = "ADA10"; parameter ADA9MUX = "ADA9"; parameter ADA8MUX = "ADA8";
    parameter ADA7MUX = "ADA7"; parameter ADA6MUX = "ADA6"; parameter ADA5MUX = "ADA5"; parameter ADA4MUX = "ADA4";
    parameter ADA3MUX = "ADA3"; parameter ADA2MUX = "ADA2"; parameter ADA1MUX = "ADA1"; parameter ADA0MUX = "ADA0";
    parameter CEAMUX = "CEA"; parameter OCEAMUX = "OCEA"; parameter CLKAMUX = "CLKA"; parameter WEAMUX = "WEA";
    parameter RSTAMUX = "RSTA"; parameter CSA2MUX = "CSA2"; parameter CSA1MUX = "CSA1"; parameter CSA0MUX = "CSA0";
    parameter DOA17MUX = "DOA17"; parameter DOA16MUX = "DOA16"; parameter DOA15MUX = "DOA15"; parameter DOA14MUX = "DOA14";
    parameter DOA13MUX = "DOA13"; parameter DOA12MUX = "DOA12"; parameter DOA11MUX = "DOA11"; parameter DOA10MUX = "DOA10";
    parameter DOA9MUX = "DOA9"; parameter DOA8MUX = "DOA8"; parameter DOA7MUX = "DOA7"; parameter DOA6MUX = "DOA6";
    parameter DOA5MUX = "DOA5"; parameter DOA4MUX = "DOA4"; parameter DOA3MUX = "DOA3"; parameter DOA2MUX = "DOA2";
    parameter DOA1MUX = "DOA1"; parameter DOA0MUX = "DOA0"; parameter DIB17MUX = "DIB17"; parameter DIB16MUX = "DIB16";
    parameter DIB15MUX = "DIB15"; parameter DIB14MUX = "DIB14"; parameter DIB13MUX = "DIB13"; parameter DIB12MUX = "DIB12";
    parameter DIB11MUX = "DIB11"; parameter DIB10MUX = "DIB10"; parameter DIB9MUX = "DIB9"; parameter DIB8MUX = "DIB8";
    parameter DIB7MUX = "DIB7"; parameter DIB6MUX = "DIB6"; parameter DIB5MUX = "DIB5"; parameter DIB4MUX = "DIB4";
    parameter DIB3MUX = "DIB3"; parameter DIB2MUX = "DIB2"; parameter DIB1MUX = "DIB1"; parameter DIB0MUX = "DIB0";
    parameter ADB13MUX = "ADB13"; parameter ADB12MUX = "ADB12"; parameter ADB11MUX = "ADB11"; parameter ADB10MUX = "ADB10";
    parameter ADB9MUX = "ADB9"; parameter ADB8MUX = "ADB8"; parameter ADB7MUX = "ADB7"; parameter ADB6MUX = "ADB6";
    parameter ADB5MUX = "ADB5"; parameter ADB4MUX = "ADB4"; parameter ADB3MUX = "ADB3"; parameter ADB2MUX = "ADB2";
    parameter ADB1MUX = "ADB1"; parameter ADB0MUX = "ADB0"; parameter CEBMUX = "CEB"; parameter OCEBMUX = "OCEB";
    parameter CLKBMUX = "CLKB"; parameter WEBMUX = "WEB"; parameter RSTBMUX = "RSTB"; parameter CSB2MUX = "CSB2";
    parameter CSB1MUX = "CSB1"; parameter CSB0MUX = "CSB0"; parameter DOB17MUX = "DOB17"; parameter DOB16MUX = "DOB16";
    parameter DOB15MUX = "DOB15"; parameter DOB14MUX = "DOB14"; parameter DOB13MUX = "DOB13"; parameter DOB12MUX = "DOB12";
    parameter DOB11MUX = "DOB11"; parameter DOB10MUX = "DOB10"; parameter DOB9MUX = "DOB9"; parameter DOB8MUX = "DOB8";
    parameter DOB7MUX = "DOB7"; parameter DOB6MUX = "DOB6"; parameter DOB5MUX = "DOB5"; parameter DOB4MUX = "DOB4";
    parameter DOB3MUX = "DOB3"; parameter DOB2MUX = "DOB2"; parameter DOB1MUX = "DOB1"; parameter DOB0MUX = "DOB0";
    parameter WID = 0;
    parameter GSR = "ENABLED";
    parameter INIT_DATA = "STATIC";
    parameter [319:0] INITVAL_00 = 320'h0; parameter [319:0] INITVAL_01 = 320'h0; parameter [319:0] INITVAL_02 = 320'h0;
    parameter [319:0] INITVAL_03 = 320'h0; parameter [319:0] INITVAL_04 = 320'h0; parameter [319:0] INITVAL_05 = 320'h0;
    parameter [319:0] INITVAL_06 = 320'h0; parameter [319:0] INITVAL_07 = 320'h0; parameter [319:0] INITVAL_08 = 320'h0;
    parameter [319:0] INITVAL_09 = 320'h0; parameter [319:0] INITVAL_0A = 320'h0; parameter [319:0] INITVAL_0B = 320'h0;
    parameter [319:0] INITVAL_0C = 320'h0; parameter [319:0] INITVAL_0D = 320'h0; parameter [319:0] INITVAL_0E = 320'h0;
    parameter [319:0] INITVAL_0F = 320'h0; parameter [319:0] INITVAL_10 = 320'h0; parameter [319:0] INITVAL_11 = 320'h0;
    parameter [319:0] INITVAL_12 = 320'h0; parameter [319:0] INITVAL_13 = 320'h0; parameter [319:0] INITVAL_14 = 320'h0;
    parameter [319:0] INITVAL_15 = 320'h0; parameter [319:0] INITVAL_16 = 320'h0; parameter [319:0] INITVAL_17 = 320'h0;
    parameter [319:0] INITVAL_18 = 320'h0; parameter [319:0] INITVAL_19 = 320'h0; parameter [319:0] INITVAL_1A = 320'h0;
    parameter [319:0] INITVAL_1B = 320'h0; parameter [319:0] INITVAL_1C = 320'h0; parameter [319:0] INITVAL_1D = 320'h0;
    parameter [319:0] INITVAL_1E = 320'h0; parameter [319:0] INITVAL_1F = 320'h0; parameter [319:0] INITVAL_20 = 320'h0;
    parameter [319:0] INITVAL_21 = 320'h0; parameter [319:0] INITVAL_22 = 320'h0; parameter [319:0] INITVAL_23 = 320'h0;
    parameter [319:0] INITVAL_24 = 320'h0; parameter [319:0] INITVAL_25 = 320'h0; parameter [319:0] INITVAL_26 = 320'h0;
    parameter [319:0] INITVAL_27 = 320'h0; parameter [319:0] INITVAL_28 = 320'h0; parameter [319:0] INITVAL_29 = 320'h0;
    parameter [319:0] INITVAL_2A = 320'h0; parameter [319:0] INITVAL_2B = 320'h0; parameter [319:0] INITVAL_2C = 320'h0;
    parameter [319:0] INITVAL_2D = 320'h0; parameter [319:0] INITVAL_2E = 320'h0; parameter [319:0] INITVAL_2F = 320'h0;
    parameter [319:0] INITVAL_30 = 320'h0; parameter [319:0] INITVAL_31 = 320'h0; parameter [319:0] INITVAL_32 = 320'h0;
    parameter [319:0] INITVAL_33 = 320'h0; parameter [319:0] INITVAL_34 = 320'h0; parameter [319:0] INITVAL_35 = 320'h0;
    parameter [319:0] INITVAL_36 = 320'h0; parameter [319:0] INITVAL_37 = 320'h0; parameter [319:0] INITVAL_38 = 320'h0;
    parameter [319:0] INITVAL_39 = 320'h0; parameter [319:0] INITVAL_3A = 320'h0; parameter [319:0] INITVAL_3B = 320'h0;
    parameter [319:0] INITVAL_3C = 320'h0; parameter [319:0] INITVAL_3D = 320'h0; parameter [319:0] INITVAL_3E = 320'h0;
    parameter [319:0] INITVAL_3F = 320'h0;

    localparam [20479:0] INITVALS = {
        INITVAL_3F, INITVAL_3E, INITVAL_3D, INITVAL_3C, INITVAL_3B, INITVAL_3A, INITVAL_39, INITVAL_38,
        INITVAL_37, INITVAL_36, INITVAL_35, INITVAL_34, INITVAL_33, INITVAL_32, INITVAL_31, INITVAL_30,
        INITVAL_2F, INITVAL_2E, INITVAL_2D, INITVAL_2C, INITVAL_2B, INITVAL_2A, INITVAL_29, INITVAL_28,
        INITVAL_27, INITVAL_26, INITVAL_25, INITVAL_24, INITVAL_23, INITVAL_22, INITVAL_21, INITVAL_20,
        INITVAL_1F, INITVAL_1E, INITVAL_1D, INITVAL_1C, INITVAL_1B, INITVAL_1A, INITVAL_19, INITVAL_18,
        INITVAL_17, INITVAL_16, INITVAL_15, INITVAL_14, INITVAL_13, INITVAL_12, INITVAL_11, INITVAL_10,
        INITVAL_0F, INITVAL_0E, INITVAL_0D, INITVAL_0C, INITVAL_0B, INITVAL_0A, INITVAL_09, INITVAL_08,
        INITVAL_07, INITVAL_06, INITVAL_05, INITVAL_04, INITVAL_03, INITVAL_02, INITVAL_01, INITVAL_00};
    // 36 bits: port A the write side, port B the read side of pseudo-dual-port mode
    localparam WIDE_A = DATA_WIDTH_A == 36;
    localparam WIDE_B = DATA_WIDTH_B == 36;
    localparam [2:0] CS_A = {CSDECODE_A[23:16] == "1", CSDECODE_A[15:8] == "1", CSDECODE_A[7:0] == "1"};
    localparam [2:0] CS_B = {CSDECODE_B[23:16] == "1", CSDECODE_B[15:8] == "1", CSDECODE_B[7:0] == "1"};

    // the ports write the array from two processes (two clocks, in general)
    /* verilator lint_off MULTIDRIVEN */
    reg [8:0] mem [0:2047];
    /* verilator lint_on MULTIDRIVEN */

    // the w-bit word at address pins ad, in the low bits
    function [35:0] word(input integer w, input [13:0] ad);
        begin
            word = 36'b0;
            case (w)
                1: word[0] = mem[ad[13:3]][{1'b0, ad[2:0]}];
                2: word[1:0] = mem[ad[13:3]][{1'b0, ad[2:1], 1'b0} +: 2];
                4: word[3:0] = mem[ad[13:3]][{1'b0, ad[2], 2'b0} +: 4];
                9: word[8:0] = mem[ad[13:3]];
                18: word[17:0] = {mem[{ad[13:4], 1'b1}], mem[{ad[13:4], 1'b0}]};
                default: word = {mem[{ad[13:5], 2'd3}], mem[{ad[13:5], 2'd2}], mem[{ad[13:5], 2'd1}],
                                 mem[{ad[13:5], 2'd0}]};
            endcase
        end
    endfunction

    // a w-bit word as a write of d with byte enables be (18 and 36 bits) leaves it
    function [35:0] merged(input integer w, input [35:0] old, input [35:0] d, input [3:0] be);
        integer j;
        begin
            merged = 36'b0;
            if (w >= 18) begin
                for (j = 0; j < 4; j = j + 1)
                    merged[9 * j +: 9] = be[j] ? d[9 * j +: 9] : old[9 * j +: 9];
            end else
                merged = d & ~(~36'b0 << w);
        end
    endfunction

    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4,
                       DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4,
                       DIB3, DIB2, DIB1, DIB0};
    wire [35:0] wd_a = WIDE_A ? {dib, dia} : {18'b0, dia};
    wire [35:0] wd_b = {18'b0, dib};
    wire [3:0] be_a = DATA_WIDTH_A == 36 ? ada[3:0] : DATA_WIDTH_A == 18 ? {2'b0, ada[1:0]} : 4'b0;
    wire [3:0] be_b = DATA_WIDTH_B == 18 ? {2'b0, adb[1:0]} : 4'b0;
    wire clk_a = (CLKAMUX == "INV") ? !CLKA : CLKA;
    wire clk_b = (CLKBMUX == "INV") ? !CLKB : CLKB;
    wire en_a = CEA && {CSA2, CSA1, CSA0} == CS_A;
    wire en_b = CEB && {CSB2, CSB1, CSB0} == CS_B;
    wire arst_a = RESETMODE == "ASYNC" && RSTA;
    wire arst_b = RESETMODE == "ASYNC" && RSTB;
    wire srst_a = RESETMODE == "SYNC" && RSTA;
    wire srst_b = RESETMODE == "SYNC" && RSTB;
    // port B does not write while its data pins carry the top of port A's 36-bit word, nor at 36 bits
    wire we_b = WEB && !WIDE_A && !WIDE_B;

    reg [35:0] rd_a, rd_b;  // read data
    reg [35:0] q_a, q_b;    // output registers

    // writes: the enabled port's word, or the bytes of it its byte enables select
    always @(posedge clk_a)
        if (en_a && WEA)
            case (DATA_WIDTH_A)
                1: mem[ada[13:3]][{1'b0, ada[2:0]}] <= dia[0];
                2: mem[ada[13:3]][{1'b0, ada[2:1], 1'b0} +: 2] <= dia[1:0];
                4: mem[ada[13:3]][{1'b0, ada[2], 2'b0} +: 4] <= dia[3:0];
                9: mem[ada[13:3]] <= dia[8:0];
                18: begin
                    if (ada[0]) mem[{ada[13:4], 1'b0}] <= dia[8:0];
                    if (ada[1]) mem[{ada[13:4], 1'b1}] <= dia[17:9];
                end
                default: begin
                    if (ada[0]) mem[{ada[13:5], 2'd0}] <= dia[8:0];
                    if (ada[1]) mem[{ada[13:5], 2'd1}] <= dia[17:9];
                    if (ada[2]) mem[{ada[13:5], 2'd2}] <= dib[8:0];
                    if (ada[3]) mem[{ada[13:5], 2'd3}] <= dib[17:9];
                end
            endcase

    always @(posedge clk_b)
        if (en_b && we_b)
            case (DATA_WIDTH_B)
                1: mem[adb[13:3]][{1'b0, adb[2:0]}] <= dib[0];
                2: mem[adb[13:3]][{1'b0, adb[2:1], 1'b0} +: 2] <= dib[1:0];
                4: mem[adb[13:3]][{1'b0, adb[2], 2'b0} +: 4] <= dib[3:0];
                9: mem[adb[13:3]] <= dib[8:0];
                default: begin
                    if (adb[0]) mem[{adb[13:4], 1'b0}] <= dib[8:0];
                    if (adb[1]) mem[{adb[13:4], 1'b1}] <= dib[17:9];
                end
            endcase

    // read data and output registers (the array as it was before this edge's writes)
    always @(posedge clk_a or posedge arst_a)
        if (arst_a) begin
            rd_a <= 36'b0;
            q_a <= 36'b0;
        end else begin
            // port A does not read when it is (or port B is) a side of the 36-bit pseudo-dual-port mode
            if (srst_a)
                rd_a <= 36'b0;
            else if (en_a && !WIDE_A && !WIDE_B) begin
                if (!WEA || WRITEMODE_A == "READBEFOREWRITE")
                    rd_a <= word(DATA_WIDTH_A, ada);
                else if (WRITEMODE_A == "WRITETHROUGH")
                    rd_a <= merged(DATA_WIDTH_A, word(DATA_WIDTH_A, ada), wd_a, be_a);
            end
            if (srst_a)
                q_a <= 36'b0;
            else if (OCEA)
                q_a <= rd_a;
        end

    always @(posedge clk_b or posedge arst_b)
        if (arst_b) begin
            rd_b <= 36'b0;
            q_b <= 36'b0;
        end else begin
            if (srst_b)
                rd_b <= 36'b0;
            else if (en_b) begin
                if (!we_b || WRITEMODE_B == "READBEFOREWRITE")
                    rd_b <= word(DATA_WIDTH_B, adb);
                else if (WRITEMODE_B == "WRITETHROUGH")
                    rd_b <= merged(DATA_WIDTH_B, word(DATA_WIDTH_B, adb), wd_b, be_b);
            end
            if (srst_b)
                q_b <= 36'b0;
            else if (OCEB)
                q_b <= rd_b;
        end

    wire [35:0] out_a = REGMODE_A == "OUTREG" ? q_a : rd_a;
    wire [35:0] out_b = REGMODE_B == "OUTREG" ? q_b : rd_b;
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4,
            DOA3, DOA2, DOA1, DOA0} = WIDE_B ? out_b[17:0] : out_a[17:0];
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4,
            DOB3, DOB2, DOB1, DOB0} = WIDE_B ? out_b[35:18] : out_b[17:0];

    function known_width(input integer w);
        known_width = w == 1 || w == 2 || w == 4 || w == 9 || w == 18 || w == 36;
    endfunction

    function bad_csdecode(input [39:0] s);
        bad_csdecode = s[39:24] != "0b" || (s[23:16] != "0" && s[23:16] != "1")
            || (s[15:8] != "0" && s[15:8] != "1") || (s[7:0] != "0" && s[7:0] != "1");
    endfunction

    integer i;
    reg [20479:0] init;  // INITVALS as a variable: Icarus takes slices of a wide constant slowly
    initial begin
        {rd_a, rd_b, q_a, q_b} = 144'b0;
        init = INITVALS;
        for (i = 0; i < 1024; i = i + 1) begin
            mem[2 * i] = init[20 * i +: 9];
            mem[2 * i + 1] = init[20 * i + 9 +: 9];
        end
        if (!known_width(DATA_WIDTH_A) || !known_width(DATA_WIDTH_B)
                || (REGMODE_A != "NOREG" && REGMODE_A != "OUTREG") || (REGMODE_B != "NOREG" && REGMODE_B != "OUTREG")
                || (WRITEMODE_A != "NORMAL" && WRITEMODE_A != "WRITETHROUGH" && WRITEMODE_A != "READBEFOREWRITE")
                || (WRITEMODE_B != "NORMAL" && WRITEMODE_B != "WRITETHROUGH" && WRITEMODE_B != "READBEFOREWRITE")
                || (RESETMODE != "SYNC" && RESETMODE != "ASYNC") || bad_csdecode(CSDECODE_A) || bad_csdecode(CSDECODE_B)
                || (CLKAMUX != "CLKA" && CLKAMUX != "INV") || (CLKBMUX != "CLKB" && CLKBMUX != "INV")
                || DIA17MUX != "DIA17" || DIA16MUX != "DIA16" || DIA15MUX != "DIA15" || DIA14MUX != "DIA14" || DIA13MUX != "DIA13"
            || DIA12MUX != "DIA12" || DIA11MUX != "DIA11" || DIA10MUX != "DIA10" || DIA9MUX != "DIA9" || DIA8MUX != "DIA8"
            || DIA7MUX != "DIA7" || DIA6MUX != "DIA6" || DIA5MUX != "DIA5" || DIA4MUX != "DIA4" || DIA3MUX != "DIA3"
            || DIA2MUX != "DIA2" || DIA1MUX != "DIA1" || DIA0MUX != "DIA0" || ADA13MUX != "ADA13" || ADA12MUX != "ADA12"
            || ADA11MUX != "ADA11" || ADA10MUX != "ADA10" || ADA9MUX != "ADA9" || ADA8MUX != "ADA8" || ADA7MUX != "ADA7"
            || ADA6MUX != "ADA6" || ADA5MUX != "ADA5" || ADA4MUX != "ADA4" || ADA3MUX != "ADA3" || ADA2MUX != "ADA2"
            || ADA1MUX != "ADA1" || ADA0MUX != "ADA0" || CEAMUX != "CEA" || OCEAMUX != "OCEA" || WEAMUX != "WEA"
            || RSTAMUX != "RSTA" || CSA2MUX != "CSA2" || CSA1MUX != "CSA1" || CSA0MUX != "CSA0" || DOA17MUX != "DOA17"
            || DOA16MUX != "DOA16" || DOA15MUX != "DOA15" || DOA14MUX != "DOA14" || DOA13MUX != "DOA13" || DOA12MUX != "DOA12"
            || DOA11MUX != "DOA11" || DOA10MUX != "DOA10" || DOA9MUX != "DOA9" || DOA8MUX != "DOA8" || DOA7MUX != "DOA7"
            || DOA6MUX != "DOA6" || DOA5MUX != "DOA5" || DOA4MUX != "DOA4" || DOA3MUX != "DOA3" || DOA2MUX != "DOA2"
            || DOA1MUX != "DOA1" || DOA0MUX != "DOA0" || DIB17MUX != "DIB17" || DIB16MUX != "DIB16" || DIB15MUX != "DIB15"
            || DIB14MUX != "DIB14" || DIB13MUX != "DIB13" || DIB12MUX != "DIB12" || DIB11MUX != "DIB11" || DIB10MUX != "DIB10"
            || DIB9MUX != "DIB9" || DIB8MUX != "DIB8" || DIB7MUX != "DIB7" || DIB6MUX != "DIB6" || DIB5MUX != "DIB5"
            || DIB4MUX != "DIB4" || DIB3MUX != "DIB3" || DIB2MUX != "DIB2" || DIB1MUX != "DIB1" || DIB0MUX != "DIB0"
            || ADB13MUX != "ADB13" || ADB12MUX != "ADB12" || ADB11MUX != "ADB11" || ADB10MUX != "ADB10" || ADB9MUX != "ADB9"
            || ADB8MUX != "ADB8" || ADB7MUX != "ADB7" || ADB6MUX != "ADB6" || ADB5MUX != "ADB5" || ADB4MUX != "ADB4"
            || ADB3MUX != "ADB3" || ADB2MUX != "ADB2" || ADB1MUX != "ADB1" || ADB0MUX != "ADB0" || CEBMUX != "CEB"
            || OCEBMUX != "OCEB" || WEBMUX != "WEB" || RSTBMUX != "RSTB" || CSB2MUX != "CSB2" || CSB1MUX != "CSB1"
            || CSB0MUX != "CSB0" || DOB17MUX != "DOB17" || DOB16MUX != "DOB16" || DOB15MUX != "DOB15" || DOB14MUX != "DOB14"
            || DOB13MUX != "DOB13" || DOB12MUX != "DOB12" || DOB11MUX != "DOB11" || DOB10MUX != "DOB10" || DOB9MUX != "DOB9"
            || DOB8MUX != "DOB8" || DOB7MUX != "DOB7" || DOB6MUX != "DOB6" || DOB5MUX != "DOB5" || DOB4MUX != "DOB4"
            || DOB3MUX != "DOB3" || DOB2MUX != "DOB2" || DOB1MUX != "DOB1" || DOB0MUX != "DOB0") begin
            $display("DP16KD %m: a configuration this model does not cover");
            $finish;
        end
    end
endmodule
/* verilator lint_on WIDTHEXPAND */
