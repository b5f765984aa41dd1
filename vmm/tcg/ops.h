/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_OPS_H
#define VESSEL_TCG_OPS_H

/* Instruction handlers, referenced by the decoder's opcode tables. */
#include "cpu.h"

#define OP(name) int name(struct tcg_cpu *cpu, const struct insn *in)

/* exec_int.c: integer, data movement, control flow, strings */
OP(op_alu_rm_reg);	/* op: ALU operation; Eb,Gb / Ev,Gv */
OP(op_alu_reg_rm);	/* Gb,Eb / Gv,Ev */
OP(op_alu_rm_imm);	/* Eb,Ib / Ev,Iz / Ev,Ib; AL/eAX,imm with rm = 0 */
OP(op_test_rm_reg);
OP(op_test_rm_imm);
OP(op_inc_dec);		/* op: 0 inc, 1 dec */
OP(op_not);
OP(op_neg);
OP(op_mul);		/* F6/F7 /4 */
OP(op_imul1);		/* F6/F7 /5 */
OP(op_div);
OP(op_idiv);
OP(op_imul_reg_rm);	/* 0F AF */
OP(op_imul_reg_rm_imm);	/* 69, 6B */
OP(op_shift);		/* op: ROL ROR RCL RCR SHL SHR SAL SAR; count in imm or CL (imm = 0x100) */
OP(op_shld);		/* 0F A4/A5 */
OP(op_shrd);		/* 0F AC/AD */
OP(op_mov_rm_reg);
OP(op_mov_reg_rm);
OP(op_mov_rm_imm);
OP(op_mov_reg_imm);	/* B0-BF: rm = register */
OP(op_mov_moffs_load);	/* A0/A1 */
OP(op_mov_moffs_store);	/* A2/A3 */
OP(op_movzx);		/* size = source size, op = destination size */
OP(op_movsx);
OP(op_movsxd);
OP(op_lea);
OP(op_xchg);		/* r/m with reg */
OP(op_xchg_ax);		/* 90+r */
OP(op_nop);
OP(op_pause);
OP(op_cbw);		/* 98 */
OP(op_cwd);		/* 99 */
OP(op_push_reg);
OP(op_pop_reg);
OP(op_push_imm);
OP(op_push_rm);
OP(op_pop_rm);
OP(op_push_seg);	/* op: segment */
OP(op_pop_seg);
OP(op_pusha);
OP(op_popa);
OP(op_pushf);
OP(op_popf);
OP(op_sahf);
OP(op_lahf);
OP(op_flag_op);		/* op: 0 clc 1 stc 2 cmc 3 cld 4 std */
OP(op_cli);
OP(op_sti);
OP(op_setcc);
OP(op_cmovcc);
OP(op_jcc);		/* imm = displacement */
OP(op_jmp_rel);
OP(op_call_rel);
OP(op_jmp_rm);
OP(op_call_rm);
OP(op_ret);		/* imm = bytes to pop */
OP(op_retf);
OP(op_jmp_far);		/* EA: imm = offset, imm2 = selector */
OP(op_call_far);	/* 9A */
OP(op_jmp_far_rm);	/* FF /5 */
OP(op_call_far_rm);	/* FF /3 */
OP(op_loop);		/* op: 0 loopne 1 loope 2 loop 3 jcxz */
OP(op_enter);
OP(op_leave);
OP(op_bt);		/* op: 0 bt 1 bts 2 btr 3 btc; bit from reg */
OP(op_bt_imm);
OP(op_bsf);
OP(op_bsr);
OP(op_tzcnt);
OP(op_lzcnt);
OP(op_popcnt);
OP(op_bswap);
OP(op_cmpxchg);
OP(op_cmpxchg8b);	/* also 16b with REX.W */
OP(op_xadd);
OP(op_xlat);
OP(op_movs);
OP(op_cmps);
OP(op_stos);
OP(op_lods);
OP(op_scas);
OP(op_ins);
OP(op_outs);
OP(op_in);		/* op: 1 = port in DX */
OP(op_out);
OP(op_ud);
OP(op_int3);
OP(op_int);
OP(op_into);
OP(op_int1);
OP(op_hlt);
OP(op_iret);
OP(op_daa_das);		/* op: 0 DAA, 1 DAS */
OP(op_aaa_aas);		/* op: 0 AAA, 1 AAS */
OP(op_aam);
OP(op_aad);
OP(op_salc);
OP(op_bound);
OP(op_arpl);
OP(op_end_block);	/* sentinel after the last instruction */
OP(op_crosses_page);	/* decodes nothing: the block ends before a page boundary */

/* exec_sys.c: system instructions */
OP(op_mov_from_cr);
OP(op_mov_to_cr);
OP(op_mov_from_dr);
OP(op_mov_to_dr);
OP(op_mov_rm_sreg);	/* 8C */
OP(op_mov_sreg_rm);	/* 8E */
OP(op_lgdt_lidt);	/* op: 0 gdt 1 idt */
OP(op_sgdt_sidt);
OP(op_lldt);
OP(op_ltr);
OP(op_sldt_str);	/* op: 0 sldt 1 str */
OP(op_smsw);
OP(op_lmsw);
OP(op_invlpg);
OP(op_clts);
OP(op_wbinvd);
OP(op_cpuid);
OP(op_rdtsc);
OP(op_rdtscp);
OP(op_rdmsr);
OP(op_wrmsr);
OP(op_rdpmc);
OP(op_syscall);
OP(op_sysret);
OP(op_sysenter);
OP(op_sysexit);
OP(op_swapgs);
OP(op_lar_lsl);		/* op: 0 lar 1 lsl */
OP(op_verr_verw);
OP(op_lseg_far);	/* LDS/LES/LFS/LGS/LSS: op = segment */
OP(op_fence);
OP(op_clflush);
OP(op_xgetbv);

/* exec_fpu.c, exec_x87.c, exec_sse.c (more in fpu.h) */
OP(op_fpu);		/* D8-DF table marker: x87_decode() picks the handler */
OP(op_fwait);
OP(op_fxsave);
OP(op_fxrstor);
OP(op_ldmxcsr);
OP(op_stmxcsr);
OP(op_sse);		/* 0F xx MMX/SSE/SSE2 table marker: sse_decode() picks the handler */

/* exec_fast.c: a faster handler for a decoded instruction, or in->fn. */
insn_fn insn_specialize(struct insn *in);

/* The forms insn_specialize() picks, described for the JIT. */
enum fast_kind {
	FAST_MOV_RR,	/* rm = reg */
	FAST_MOV_RI,	/* rm = imm (already extended) */
	FAST_LOAD,	/* reg = [ea] */
	FAST_STORE,	/* [ea] = reg */
	FAST_INCDEC,	/* op: 0 inc, 1 dec; on rm */
	FAST_LEA,	/* reg = ea (64-bit) */
	FAST_ALU_RR,	/* rm = rm OP reg; op 0-7 as the ALU group, 8 TEST */
	FAST_ALU_RI,	/* rm = rm OP imm */
};

struct fast_form {
	enum fast_kind kind;
	uint8_t size;	/* 4 or 8 */
	uint8_t op;
};

bool insn_fast_form(const struct insn *in, struct fast_form *form);

/* The SSE forms the JIT compiles (exec_sse.c). */
enum sse_kind {
	SSE_MOV128_LOAD,	/* xmm reg = xmm rm or m128 */
	SSE_MOV128_STORE,	/* xmm rm or m128 = xmm reg */
	SSE_MOV64_LOAD,		/* MOVSD: m64 zero-extended, or the low half of xmm rm, into xmm reg */
	SSE_MOV64_STORE,	/* MOVSD: the low half of xmm reg into m64 or xmm rm */
	SSE_INT_OP,		/* xmm reg = xmm reg OP (xmm rm or m128): the host's 66 0F opcode */
	SSE_MOVMSK,		/* PMOVMSKB reg, xmm rm */
};

struct sse_form {
	enum sse_kind kind;
	bool aligned;		/* m128 must be 16-byte aligned (#GP) */
	uint8_t opcode;
};

bool sse_jit_form(const struct insn *in, struct sse_form *form);

/* Helpers shared by handlers. */
void fpu_check_x87(struct tcg_cpu *cpu);
void fpu_check_sse(struct tcg_cpu *cpu);
uint64_t alu_compute(struct tcg_cpu *cpu, unsigned int op, unsigned int size, uint64_t a, uint64_t b);
void cpu_iret(struct tcg_cpu *cpu, unsigned int size);
void far_jump(struct tcg_cpu *cpu, uint16_t selector, uint64_t offset, bool call, unsigned int size,
	      uint64_t return_rip);

#endif
