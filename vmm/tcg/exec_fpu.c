/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 and SSE state handling: FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, FWAIT, and the
 * availability checks (CR0.EM/TS, CR4.OSFXSR) of Intel SDM Vol. 3A §13.
 * The arithmetic (x87 D8-DF, MMX/SSE/SSE2 0F xx) lives in exec_x87.c and
 * exec_sse.c.
 */
#include "ops.h"

#define CR0_EM		(1ULL << 2)
#define CR0_TS		(1ULL << 3)
#define CR4_OSFXSR	(1ULL << 9)
#define MXCSR_MASK	0xffffu	/* MXCSR bits FXSAVE reports as writable (no DAZ quirks) */

/* x87/MMX: #NM when CR0.EM or CR0.TS (Vol. 3A Table 2-2). */
void fpu_check_x87(struct tcg_cpu *cpu)
{
	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
}

/* SSE: #UD when CR0.EM or CR4.OSFXSR is clear, #NM when CR0.TS. */
void fpu_check_sse(struct tcg_cpu *cpu)
{
	if ((cpu->cr0 & CR0_EM) || !(cpu->cr4 & CR4_OSFXSR))
		cpu_raise_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_raise(cpu, EXC_NM, 0);
}

int op_fwait(struct tcg_cpu *cpu, const struct insn *in)
{
	if ((cpu->cr0 & (CR0_TS | (1ULL << 1))) == (CR0_TS | (1ULL << 1)))
		cpu_raise(cpu, EXC_NM, 0);
	return insn_done(cpu, in);
}

/* Effective address of the 512-byte area; it must be 16-byte aligned. */
static uint64_t fx_address(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea = insn_ea(cpu, in);

	if (seg_linear(cpu, in->seg, ea, 512, ACCESS_READ) & 15)
		cpu_raise_gp0(cpu);
	return ea;
}

int op_fxsave(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	uint8_t image[512];

	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
	ea = fx_address(cpu, in);
	memcpy(image, &cpu->fpu, sizeof(image));
	/* Without REX.W the FPU IP/DP are stored in the 32-bit layout (CS/DS fields zero). */
	if (in->size != 8) {
		memset(image + 12, 0, 4);
		memset(image + 20, 0, 4);
	}
	/* The reserved area is left untouched in memory (Vol. 2A "FXSAVE"). */
	for (unsigned int off = 0; off < 416; off += 8)
		mem_write(cpu, in->seg, (ea + off) & size_mask(in->asize), 8, load_host(image + off, 8));
	return insn_done(cpu, in);
}

int op_fxrstor(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	struct x86_fxsave fx;
	uint8_t *image = (uint8_t *)&fx;

	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
	ea = fx_address(cpu, in);
	memcpy(&fx, &cpu->fpu, sizeof(fx));
	for (unsigned int off = 0; off < 416; off += 8)
		store_host(image + off, 8, mem_read(cpu, in->seg, (ea + off) & size_mask(in->asize), 8));
	if (fx.mxcsr & ~MXCSR_MASK)
		cpu_raise_gp0(cpu);
	if (in->size != 8) {
		fx.fip &= 0xffffffff;
		fx.fdp &= 0xffffffff;
	}
	fx.mxcsr_mask = MXCSR_MASK;
	cpu->fpu = fx;
	return insn_done(cpu, in);
}

int op_ldmxcsr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint32_t v;

	fpu_check_sse(cpu);
	v = (uint32_t)rm_read(cpu, in, 4);
	if (v & ~MXCSR_MASK)
		cpu_raise_gp0(cpu);
	cpu->fpu.mxcsr = v;
	return insn_done(cpu, in);
}

int op_stmxcsr(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	rm_write(cpu, in, 4, cpu->fpu.mxcsr);
	return insn_done(cpu, in);
}
