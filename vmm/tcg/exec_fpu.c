/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 and SSE state handling: FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, FWAIT, the
 * availability checks (CR0.EM/MP/TS/NE, CR4.OSFXSR; Intel SDM Vol. 3A §2.5,
 * §13.1) and byte-range guest memory access for the FPU handlers.  The
 * arithmetic (x87 D8-DF, MMX/SSE/SSE2 0F xx) lives in exec_x87.c and
 * exec_sse.c.
 */
#include "fpu.h"

#include "log.h"

/* x87: #NM when CR0.EM or CR0.TS (Vol. 3A Table 2-2). */
void fpu_check_x87(struct tcg_cpu *cpu)
{
	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_raise(cpu, EXC_NM, 0);
}

/* SSE: #UD when CR0.EM or CR4.OSFXSR is clear, #NM when CR0.TS (Vol. 3A §13.1.3). */
void fpu_check_sse(struct tcg_cpu *cpu)
{
	if ((cpu->cr0 & CR0_EM) || !(cpu->cr4 & CR4_OSFXSR))
		cpu_raise_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_raise(cpu, EXC_NM, 0);
}

/*
 * A pending unmasked x87 exception (FSW.ES) is taken by the next waiting
 * x87 or MMX instruction (Vol. 1 §8.6).  With CR0.NE the processor raises
 * #MF.  Without it a PC signals FERR# to the 8259 (IRQ 13) and DOS-era
 * handlers acknowledge through port 0xF0; we do not model that wiring: the
 * instruction runs as if IGNNE# were asserted (Vol. 1 §8.7), and we say so.
 */
void fpu_check_pending(struct tcg_cpu *cpu)
{
	if (likely(!(cpu->fpu.fsw & FSW_ES)))
		return;
	if (cpu->cr0 & CR0_NE)
		cpu_raise(cpu, EXC_MF, 0);
	log_guest_once("software CPU: pending x87 exception with CR0.NE clear at 0x%" G_GINT64_MODIFIER
		       "x: ignored (no FERR#/IRQ 13 emulation)", cpu->rip);
}

/* MMX (Vol. 3A Table 12-1 and Vol. 3B §22.25.3): EM gives #UD, not #NM. */
void fpu_check_mmx(struct tcg_cpu *cpu)
{
	if (cpu->cr0 & CR0_EM)
		cpu_raise_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_raise(cpu, EXC_NM, 0);
	fpu_check_pending(cpu);
}

/* FWAIT: #NM only when both MP and TS are set (Vol. 3A Table 2-2). */
int op_fwait(struct tcg_cpu *cpu, const struct insn *in)
{
	if ((cpu->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
		cpu_raise(cpu, EXC_NM, 0);
	fpu_check_pending(cpu);
	return insn_done(cpu, in);
}

/* --- byte ranges of guest memory --- */

void fpu_check_alignment(struct tcg_cpu *cpu, uint64_t linear, unsigned int align)
{
	if (unlikely(cpu->alignment_check) && (linear & (align - 1)))
		cpu_raise(cpu, EXC_AC, 0);
}

/* Access sizes: whole words, or bytes while alignment checking (done once, above). */
static unsigned int chunk(const struct tcg_cpu *cpu, unsigned int left)
{
	if (unlikely(cpu->alignment_check))
		return 1;
	return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

void fpu_read(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, void *buf, unsigned int size,
	      unsigned int align)
{
	uint64_t linear = seg_linear(cpu, seg, ea, size, ACCESS_READ);
	uint8_t *out = buf;

	fpu_check_alignment(cpu, linear, align);
	for (unsigned int off = 0, n; off < size; off += n) {
		n = chunk(cpu, size - off);
		store_host(out + off, n, lin_read(cpu, linear + off, n));
	}
}

uint64_t fpu_check_write(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, unsigned int size,
			 unsigned int align)
{
	uint64_t linear = seg_linear(cpu, seg, ea, size, ACCESS_WRITE);

	fpu_check_alignment(cpu, linear, align);
	/*
	 * mem_host_ptr translates for writing (raising #PF; MMIO gives NULL,
	 * no fault): the first page, then the start of the second, which is
	 * what CR2 names when only that one refuses.
	 */
	mem_host_ptr(cpu, linear, 1, ACCESS_WRITE);
	if ((linear & 0xfff) + size > 0x1000)
		mem_host_ptr(cpu, (linear | 0xfff) + 1, 1, ACCESS_WRITE);
	return linear;
}

void fpu_write(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, const void *buf, unsigned int size,
	       unsigned int align)
{
	uint64_t linear = fpu_check_write(cpu, seg, ea, size, align);
	const uint8_t *in = buf;

	for (unsigned int off = 0, n; off < size; off += n) {
		n = chunk(cpu, size - off);
		lin_write(cpu, linear + off, n, load_host(in + off, n));
	}
}

/* --- FXSAVE / FXRSTOR (Vol. 2A "FXSAVE", Vol. 1 §10.5.1) --- */

/* The legacy area the instructions read and write: bytes 416-511 are left alone. */
#define FXSAVE_WRITTEN	416

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
	struct x86_fxsave image;
	uint64_t ea;

	fpu_check_x87(cpu);
	ea = fx_address(cpu, in);
	image = cpu->fpu;
	image.mxcsr_mask = MXCSR_MASK;
	image.reserved0 = 0;
	/*
	 * Without REX.W the pointers take the 32-bit layout: offset, then the
	 * selector in bits 32-47.  exec_x87.c keeps them that way outside
	 * 64-bit mode; in 64-bit mode it keeps 64-bit offsets, so the
	 * selectors are the current CS and DS.
	 */
	if (in->size != 8) {
		if (cpu->code64) {
			image.fip = (image.fip & 0xffffffff) | (uint64_t)cpu->seg[SEG_CS].selector << 32;
			image.fdp = (image.fdp & 0xffffffff) | (uint64_t)cpu->seg[SEG_DS].selector << 32;
		} else {
			image.fip &= 0xffffffffffffULL;
			image.fdp &= 0xffffffffffffULL;
		}
	}
	fpu_write(cpu, in->seg, ea, &image, FXSAVE_WRITTEN, 16);
	return insn_done(cpu, in);
}

int op_fxrstor(struct tcg_cpu *cpu, const struct insn *in)
{
	struct x86_fxsave fx;
	uint64_t ea;

	fpu_check_x87(cpu);
	ea = fx_address(cpu, in);
	fx = cpu->fpu;
	fpu_read(cpu, in->seg, ea, &fx, FXSAVE_WRITTEN, 16);
	if (fx.mxcsr & ~MXCSR_MASK)
		cpu_raise_gp0(cpu);
	if (in->size != 8 && cpu->code64) {
		fx.fip &= 0xffffffff;
		fx.fdp &= 0xffffffff;
	} else if (in->size != 8) {
		fx.fip &= 0xffffffffffffULL;
		fx.fdp &= 0xffffffffffffULL;
	}
	/* What the processor keeps of the loaded words (measured: FCW bit 6
	 * reads 1, ES/B follow the unmasked flags, FOP is 11 bits). */
	fx.fcw = fcw_normalize(fx.fcw);
	fx.fsw = fsw_with_summary(fx.fsw, fx.fcw);
	fx.fop &= 0x7ff;
	fx.reserved0 = 0;
	fx.mxcsr_mask = MXCSR_MASK;
	for (unsigned int i = 0; i < 8; i++)
		memset(&fx.st[i][10], 0, 6);
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
