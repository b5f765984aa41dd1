/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MMX, SSE and SSE2: the 0F opcode space selected by no, 66, F3 or F2
 * prefix (Intel SDM Vol. 1 ch. 9-11, Vol. 2 instruction pages, Vol. 3B
 * §22.25.3 for the exception conditions).  Nothing later: CPUID advertises
 * no SSE3, so its encodings (and the AMD-only SSE4a ones) raise #UD.
 *
 * The guest's XMM registers are operated on in place (cpu->fpu.xmm) with
 * SSE2 intrinsics; integer operations need nothing else.  Floating-point
 * operations and conversions run the same instruction on the host inside
 * one asm block that loads the guest's rounding, DAZ and FTZ controls with
 * every exception masked and reads the flags back, so results and flags are
 * exactly the hardware's and the host never faults.  An unmasked guest
 * exception (Vol. 1 §11.5.2) then raises #XM (#UD without CR4.OSXMMEXCPT)
 * before the destination changes: pre-computation exceptions (invalid,
 * denormal, divide by zero) record only their own flags; otherwise the
 * post-computation flags are recorded too.  With underflow unmasked a tiny
 * result is reported even when exact, which masked hardware does not flag:
 * we look for denormal results of the operations that can produce them.
 *
 * MMX registers alias the x87 registers R0-R7 (Vol. 1 §9.5): an MMX
 * instruction sets TOP to 0 and every tag to valid, and a write sets bits
 * 64-79 of the register to ones; EMMS empties the tags.
 *
 * Memory: every legacy SSE m128 operand must be 16-byte aligned (#GP(0))
 * except those of MOVUPS/MOVUPD/MOVDQU and MASKMOVDQU.  Operands are read,
 * and stores translated, before any register changes.
 */
#include <emmintrin.h>

#include "fpu.h"

/* --- registers --- */

static inline __m128i xmm_get(const struct tcg_cpu *cpu, unsigned int r)
{
	return _mm_loadu_si128((const __m128i *)(const void *)cpu->fpu.xmm[r]);
}

static inline void xmm_set(struct tcg_cpu *cpu, unsigned int r, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)cpu->fpu.xmm[r], v);
}

static inline unsigned int x87_top(const struct tcg_cpu *cpu)
{
	return (cpu->fpu.fsw & FSW_TOP) >> FSW_TOP_SHIFT;
}

/* MMi is physical register Ri, which is ST((i - TOP) & 7) of the FXSAVE image. */
static inline uint64_t mm_get(const struct tcg_cpu *cpu, unsigned int r)
{
	uint64_t v;

	memcpy(&v, cpu->fpu.st[((r & 7) - x87_top(cpu)) & 7], 8);
	return v;
}

/* The switch to MMX mode of every MMX instruction but EMMS: TOP = 0, all tags valid. */
static void mmx_enter(struct tcg_cpu *cpu)
{
	fpu_set_top(&cpu->fpu, 0);
	cpu->fpu.ftw = 0xff;
}

/* Only after mmx_enter(). */
static inline void mm_set(struct tcg_cpu *cpu, unsigned int r, uint64_t v)
{
	uint8_t *reg = cpu->fpu.st[r & 7];

	memcpy(reg, &v, 8);
	reg[8] = reg[9] = 0xff;
}

static inline unsigned int gpr_size(const struct insn *in)
{
	return in->size == 8 ? 8 : 4;	/* REX.W selects 64-bit general registers */
}

/* --- memory --- */

static inline uint64_t ea_linear(struct tcg_cpu *cpu, const struct insn *in, unsigned int size,
				 enum access access, bool aligned)
{
	uint64_t linear = seg_linear(cpu, in->seg, insn_ea(cpu, in), size, access);

	if (aligned && (linear & 15))
		cpu_raise_gp0(cpu);
	fpu_check_alignment(cpu, linear, size);	/* MOVUPS & co. too */
	return linear;
}

static __m128i load128(struct tcg_cpu *cpu, const struct insn *in, bool aligned)
{
	uint64_t linear = ea_linear(cpu, in, 16, ACCESS_READ, aligned);
	const struct tlb_entry *e = &cpu->tlb[(linear >> 12) & (TLB_SIZE - 1)];
	uint64_t lo, hi;

	if (likely(e->read_tag == (linear & ~0xfffULL) && (linear & 0xfff) <= 0x1000 - 16))
		return _mm_loadu_si128((const __m128i *)(uintptr_t)(linear + e->addend));
	lo = lin_read(cpu, linear, 8);
	hi = lin_read(cpu, linear + 8, 8);
	return _mm_set_epi64x((long long)hi, (long long)lo);
}

static void store128(struct tcg_cpu *cpu, const struct insn *in, __m128i v, bool aligned)
{
	uint64_t linear = ea_linear(cpu, in, 16, ACCESS_WRITE, aligned);
	const struct tlb_entry *e = &cpu->tlb[(linear >> 12) & (TLB_SIZE - 1)];
	uint8_t bytes[16];

	if (likely(e->write_tag == (linear & ~0xfffULL) && (linear & 0xfff) <= 0x1000 - 16 &&
		   !cpu->code_pages[e->phys_page >> 12])) {
		_mm_storeu_si128((__m128i *)(uintptr_t)(linear + e->addend), v);
		return;
	}
	_mm_storeu_si128((__m128i *)(void *)bytes, v);
	fpu_write(cpu, in->seg, insn_ea(cpu, in), bytes, 16, 16);
}

static inline uint64_t load_mem(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	return mem_read(cpu, in->seg, insn_ea(cpu, in), size);
}

static inline void store_mem(struct tcg_cpu *cpu, const struct insn *in, unsigned int size, uint64_t v)
{
	mem_write(cpu, in->seg, insn_ea(cpu, in), size, v);
}

/* xmm/m128 source of a 66/NP instruction (aligned memory). */
static inline __m128i xmm_source(struct tcg_cpu *cpu, const struct insn *in)
{
	if (!(in->flags & INSN_MEM))
		return xmm_get(cpu, in->rm);
	return load128(cpu, in, true);
}

/* mm/m64 (or m32) source of an MMX instruction, after its checks (TOP not yet changed). */
static inline uint64_t mm_source_sized(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	fpu_check_mmx(cpu);
	if (in->flags & INSN_MEM)
		return load_mem(cpu, in, size);
	return mm_get(cpu, in->rm);
}

static inline uint64_t mm_source(struct tcg_cpu *cpu, const struct insn *in)
{
	return mm_source_sized(cpu, in, 8);
}

/* Source of a floating-point operation: xmm, or aligned m128 / m64 / m32 (zero-extended). */
static __m128i fp_source(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	if (!(in->flags & INSN_MEM))
		return xmm_get(cpu, in->rm);
	if (size == 16)
		return load128(cpu, in, true);
	return _mm_cvtsi64_si128((long long)load_mem(cpu, in, size));
}

/* --- the host's SSE unit --- */

/*
 * Runs `mnemonic` (which may use %[d] "+x", %[s] "x", %[r] "+r" and %[imm])
 * with the guest's MXCSR controls and every exception masked; evaluates to
 * the exception flags it raised.  ax receives AH = the host's SF ZF AF PF CF.
 */
#define HOST_SSE(mnemonic, d_, s_, r_, imm_, ax_, mxcsr_)						\
	__extension__({									\
		uint32_t host_ = 0, out_ = 0;						\
		uint32_t guest_ = ((mxcsr_) & ~MXCSR_FLAGS) | MXCSR_MASKS;		\
		__asm__ volatile("stmxcsr %[host]\n\t"					\
				 "ldmxcsr %[guest]\n\t"					\
				 mnemonic "\n\t"						\
				 "lahf\n\t"						\
				 "stmxcsr %[out]\n\t"					\
				 "ldmxcsr %[host]"					\
				 : [d] "+x"(d_), [r] "+r"(r_), [host] "+m"(host_),	\
				   [out] "+m"(out_), "=a"(ax_)				\
				 : [s] "x"(s_), [guest] "m"(guest_), [imm] "i"(imm_)	\
				 : "cc");						\
		out_ & MXCSR_FLAGS;							\
	})

#define MXCSR_PRECOMPUTATION	0x7u	/* IE, DE, ZE */

/* Records the flags, or raises #XM/#UD for an unmasked exception (state unchanged). */
static void sse_exceptions(struct tcg_cpu *cpu, unsigned int flags)
{
	unsigned int unmasked = flags & ~(cpu->fpu.mxcsr >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;

	if (likely(!unmasked)) {
		cpu->fpu.mxcsr |= flags;
		return;
	}
	if (unmasked & MXCSR_PRECOMPUTATION)
		flags &= MXCSR_PRECOMPUTATION;
	cpu->fpu.mxcsr |= flags;
	cpu_raise(cpu, (cpu->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0);
}

/* Underflow checks of results (see the header comment), by element type and count. */
static unsigned int no_underflow(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	(void)cpu;
	(void)r;
	return flags;
}

static inline bool underflow_unmasked(const struct tcg_cpu *cpu)
{
	return !(cpu->fpu.mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT));
}

static unsigned int tiny_floats(const struct tcg_cpu *cpu, unsigned int flags, __m128i r, unsigned int n)
{
	uint32_t v[4];

	if (likely(!underflow_unmasked(cpu)))
		return flags;
	_mm_storeu_si128((__m128i *)(void *)v, r);
	for (unsigned int i = 0; i < n; i++)
		if (!(v[i] & 0x7f800000u) && (v[i] & 0x007fffffu))
			return flags | MXCSR_UE;
	return flags;
}

static unsigned int tiny_doubles(const struct tcg_cpu *cpu, unsigned int flags, __m128i r, unsigned int n)
{
	uint64_t v[2];

	if (likely(!underflow_unmasked(cpu)))
		return flags;
	_mm_storeu_si128((__m128i *)(void *)v, r);
	for (unsigned int i = 0; i < n; i++)
		if (!(v[i] & 0x7ff0000000000000ULL) && (v[i] & 0x000fffffffffffffULL))
			return flags | MXCSR_UE;
	return flags;
}

static unsigned int tiny_ps(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	return tiny_floats(cpu, flags, r, 4);
}

static unsigned int tiny_ss(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	return tiny_floats(cpu, flags, r, 1);
}

static unsigned int tiny_ps2(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	return tiny_floats(cpu, flags, r, 2);
}

static unsigned int tiny_pd(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	return tiny_doubles(cpu, flags, r, 2);
}

static unsigned int tiny_sd(const struct tcg_cpu *cpu, unsigned int flags, __m128i r)
{
	return tiny_doubles(cpu, flags, r, 1);
}

/*
 * xmm <- op(xmm, xmm/mem): arithmetic, square roots, reciprocals and the
 * xmm-to-xmm conversions.  size is the memory operand's (16: aligned m128).
 */
#define FP_OP(name, mnemonic, size, underflow)						\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d, s;								\
		uint64_t r = 0, ax;							\
		unsigned int flags;							\
											\
		fpu_check_sse(cpu);							\
		s = fp_source(cpu, in, size);						\
		d = xmm_get(cpu, in->reg);						\
		flags = HOST_SSE(mnemonic " %[s], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr);	\
		(void)ax;								\
		sse_exceptions(cpu, underflow(cpu, flags, d));				\
		xmm_set(cpu, in->reg, d);						\
		return insn_done(cpu, in);						\
	}

#define FP_ARITH(op, underflow_ps, underflow_pd, underflow_ss, underflow_sd)		\
	FP_OP(op_##op##ps, #op "ps", 16, underflow_ps)					\
	FP_OP(op_##op##pd, #op "pd", 16, underflow_pd)					\
	FP_OP(op_##op##ss, #op "ss", 4, underflow_ss)					\
	FP_OP(op_##op##sd, #op "sd", 8, underflow_sd)

FP_ARITH(add, tiny_ps, tiny_pd, tiny_ss, tiny_sd)
FP_ARITH(sub, tiny_ps, tiny_pd, tiny_ss, tiny_sd)
FP_ARITH(mul, tiny_ps, tiny_pd, tiny_ss, tiny_sd)
FP_ARITH(div, tiny_ps, tiny_pd, tiny_ss, tiny_sd)
FP_ARITH(min, no_underflow, no_underflow, no_underflow, no_underflow)
FP_ARITH(max, no_underflow, no_underflow, no_underflow, no_underflow)
FP_ARITH(sqrt, no_underflow, no_underflow, no_underflow, no_underflow)
FP_OP(op_rcpps, "rcpps", 16, no_underflow)
FP_OP(op_rcpss, "rcpss", 4, no_underflow)
FP_OP(op_rsqrtps, "rsqrtps", 16, no_underflow)
FP_OP(op_rsqrtss, "rsqrtss", 4, no_underflow)
FP_OP(op_cvtps2pd, "cvtps2pd", 8, no_underflow)
FP_OP(op_cvtpd2ps, "cvtpd2ps", 16, tiny_ps2)
FP_OP(op_cvtss2sd, "cvtss2sd", 4, no_underflow)
FP_OP(op_cvtsd2ss, "cvtsd2ss", 8, tiny_ss)
FP_OP(op_cvtdq2ps, "cvtdq2ps", 16, no_underflow)
FP_OP(op_cvtps2dq, "cvtps2dq", 16, no_underflow)
FP_OP(op_cvttps2dq, "cvttps2dq", 16, no_underflow)
FP_OP(op_cvttpd2dq, "cvttpd2dq", 16, no_underflow)
FP_OP(op_cvtpd2dq, "cvtpd2dq", 16, no_underflow)
FP_OP(op_cvtdq2pd, "cvtdq2pd", 8, no_underflow)

/* CMPPS/PD/SS/SD: the legacy encodings use imm8[2:0] only (checked on hardware). */
#define CMP_CASE(n, mnemonic)								\
	case n:										\
		flags = HOST_SSE(mnemonic " %[imm], %[s], %[d]", d, s, r, n, ax, cpu->fpu.mxcsr); \
		break;

#define FP_CMP(name, mnemonic, size)							\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d, s;								\
		uint64_t r = 0, ax;							\
		unsigned int flags = 0;							\
											\
		fpu_check_sse(cpu);							\
		s = fp_source(cpu, in, size);						\
		d = xmm_get(cpu, in->reg);						\
		switch (in->imm & 7) {							\
		CMP_CASE(0, mnemonic) CMP_CASE(1, mnemonic) CMP_CASE(2, mnemonic) CMP_CASE(3, mnemonic)	\
		CMP_CASE(4, mnemonic) CMP_CASE(5, mnemonic) CMP_CASE(6, mnemonic) CMP_CASE(7, mnemonic)	\
		}									\
		(void)ax;								\
		sse_exceptions(cpu, flags);						\
		xmm_set(cpu, in->reg, d);						\
		return insn_done(cpu, in);						\
	}

FP_CMP(op_cmpps, "cmpps", 16)
FP_CMP(op_cmppd, "cmppd", 16)
FP_CMP(op_cmpss, "cmpss", 4)
FP_CMP(op_cmpsd, "cmpsd", 8)

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF from the comparison; OF, SF, AF cleared. */
#define FP_COMI(name, mnemonic, size)							\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d, s;								\
		uint64_t r = 0, ax;							\
		unsigned int flags;							\
											\
		fpu_check_sse(cpu);							\
		s = fp_source(cpu, in, size);						\
		d = xmm_get(cpu, in->reg);						\
		flags = HOST_SSE(mnemonic " %[s], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr);	\
		sse_exceptions(cpu, flags);						\
		cpu_set_eflags(cpu, (uint32_t)(ax >> 8) & (FLAG_ZF | FLAG_PF | FLAG_CF),	\
			       FLAGS_ARITH);						\
		return insn_done(cpu, in);						\
	}

FP_COMI(op_comiss, "comiss", 4)
FP_COMI(op_ucomiss, "ucomiss", 4)
FP_COMI(op_comisd, "comisd", 8)
FP_COMI(op_ucomisd, "ucomisd", 8)

/* CVTSI2SS/SD xmm, r/m32/64. */
#define FP_FROM_GPR(name, mnemonic)								\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d, s = _mm_setzero_si128();					\
		unsigned int size = gpr_size(in), flags;				\
		uint64_t r, ax;								\
											\
		fpu_check_sse(cpu);							\
		r = rm_read(cpu, in, size);						\
		d = xmm_get(cpu, in->reg);						\
		if (size == 8)								\
			flags = HOST_SSE(mnemonic "q %q[r], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr); \
		else									\
			flags = HOST_SSE(mnemonic "l %k[r], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr); \
		(void)ax;								\
		sse_exceptions(cpu, flags);						\
		xmm_set(cpu, in->reg, d);						\
		return insn_done(cpu, in);						\
	}

FP_FROM_GPR(op_cvtsi2ss, "cvtsi2ss")
FP_FROM_GPR(op_cvtsi2sd, "cvtsi2sd")

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/m64. */
#define FP_TO_GPR(name, mnemonic, size)							\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d = _mm_setzero_si128(), s;					\
		unsigned int flags;							\
		uint64_t r = 0, ax;							\
											\
		fpu_check_sse(cpu);							\
		s = fp_source(cpu, in, size);						\
		if (gpr_size(in) == 8)							\
			flags = HOST_SSE(mnemonic " %[s], %q[r]", d, s, r, 0, ax, cpu->fpu.mxcsr); \
		else									\
			flags = HOST_SSE(mnemonic " %[s], %k[r]", d, s, r, 0, ax, cpu->fpu.mxcsr); \
		(void)ax;								\
		sse_exceptions(cpu, flags);						\
		reg_write(cpu, in->reg, gpr_size(in), r);				\
		return insn_done(cpu, in);						\
	}

FP_TO_GPR(op_cvtss2si, "cvtss2si", 4)
FP_TO_GPR(op_cvttss2si, "cvttss2si", 4)
FP_TO_GPR(op_cvtsd2si, "cvtsd2si", 8)
FP_TO_GPR(op_cvttsd2si, "cvttsd2si", 8)

/*
 * CVTPI2PS/PD xmm, mm/m64: an MMX register source is an MMX instruction
 * (#MF, switch to MMX mode); a memory source is not (Vol. 3B Table 22-6,
 * checked on hardware).
 */
static uint64_t pi_source(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	if (in->flags & INSN_MEM)
		return load_mem(cpu, in, 8);
	fpu_check_pending(cpu);
	return mm_get(cpu, in->rm);
}

static int op_cvtpi2ps(struct tcg_cpu *cpu, const struct insn *in)
{
	__m128i d = _mm_setzero_si128(), s;
	uint64_t r = 0, ax;
	unsigned int flags;

	s = _mm_cvtsi64_si128((long long)pi_source(cpu, in));
	/* The switch to MMX mode comes before a SIMD exception (measured). */
	if (!(in->flags & INSN_MEM))
		mmx_enter(cpu);
	flags = HOST_SSE("cvtdq2ps %[s], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr);
	(void)ax;
	sse_exceptions(cpu, flags);
	/* Only the low two singles change. */
	d = _mm_unpacklo_epi64(d, _mm_unpackhi_epi64(xmm_get(cpu, in->reg), xmm_get(cpu, in->reg)));
	xmm_set(cpu, in->reg, d);
	return insn_done(cpu, in);
}

static int op_cvtpi2pd(struct tcg_cpu *cpu, const struct insn *in)
{
	__m128i s = _mm_cvtsi64_si128((long long)pi_source(cpu, in));

	/* Every int32 is exact as a double: no MXCSR flag can arise. */
	if (!(in->flags & INSN_MEM))
		mmx_enter(cpu);
	xmm_set(cpu, in->reg, _mm_castpd_si128(_mm_cvtepi32_pd(s)));
	return insn_done(cpu, in);
}

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: SSE checks plus #MF. */
#define FP_TO_MM(name, mnemonic, size)							\
	static int name(struct tcg_cpu *cpu, const struct insn *in)			\
	{										\
		__m128i d = _mm_setzero_si128(), s;					\
		uint64_t r = 0, ax;							\
		unsigned int flags;							\
											\
		fpu_check_sse(cpu);							\
		fpu_check_pending(cpu);							\
		s = fp_source(cpu, in, size);						\
		if ((size) == 8)							\
			s = _mm_move_epi64(s);	/* two singles only */			\
		mmx_enter(cpu);	/* before a SIMD exception too (measured) */		\
		flags = HOST_SSE(mnemonic " %[s], %[d]", d, s, r, 0, ax, cpu->fpu.mxcsr);	\
		(void)ax;								\
		sse_exceptions(cpu, flags);						\
		mm_set(cpu, in->reg, (uint64_t)_mm_cvtsi128_si64(d));			\
		return insn_done(cpu, in);						\
	}

FP_TO_MM(op_cvtps2pi, "cvtps2dq", 8)
FP_TO_MM(op_cvttps2pi, "cvttps2dq", 8)
FP_TO_MM(op_cvtpd2pi, "cvtpd2dq", 16)
FP_TO_MM(op_cvttpd2pi, "cvttpd2dq", 16)

/* --- packed integer operations, 128-bit (66) and MMX (NP) forms --- */

static inline uint64_t mm_lanes(__m128i (*fn)(__m128i, __m128i), uint64_t a, uint64_t b)
{
	return (uint64_t)_mm_cvtsi128_si64(fn(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b)));
}

#define XMM_INT(name)									\
	static int op_##name##_xmm(struct tcg_cpu *cpu, const struct insn *in)		\
	{										\
		__m128i b;								\
											\
		fpu_check_sse(cpu);							\
		b = xmm_source(cpu, in);						\
		xmm_set(cpu, in->reg, v_##name(xmm_get(cpu, in->reg), b));		\
		return insn_done(cpu, in);						\
	}

#define MM_INT_SIZED(name, mm_fn, source_size)						\
	static int op_##name##_mm(struct tcg_cpu *cpu, const struct insn *in)		\
	{										\
		uint64_t b = mm_source_sized(cpu, in, source_size);			\
		uint64_t a = mm_get(cpu, in->reg);					\
											\
		mmx_enter(cpu);								\
		mm_set(cpu, in->reg, mm_fn);						\
		return insn_done(cpu, in);						\
	}

#define MM_INT(name, mm_fn) MM_INT_SIZED(name, mm_fn, 8)

/* Element-wise operations: the MMX form is the low half of the 128-bit one. */
#define PACKED_INT(name, expr)								\
	static inline __m128i v_##name(__m128i a, __m128i b)				\
	{										\
		return expr;								\
	}										\
	XMM_INT(name)									\
	MM_INT(name, mm_lanes(v_##name, a, b))

PACKED_INT(paddb, _mm_add_epi8(a, b))
PACKED_INT(paddw, _mm_add_epi16(a, b))
PACKED_INT(paddd, _mm_add_epi32(a, b))
PACKED_INT(paddq, _mm_add_epi64(a, b))
PACKED_INT(psubb, _mm_sub_epi8(a, b))
PACKED_INT(psubw, _mm_sub_epi16(a, b))
PACKED_INT(psubd, _mm_sub_epi32(a, b))
PACKED_INT(psubq, _mm_sub_epi64(a, b))
PACKED_INT(paddsb, _mm_adds_epi8(a, b))
PACKED_INT(paddsw, _mm_adds_epi16(a, b))
PACKED_INT(paddusb, _mm_adds_epu8(a, b))
PACKED_INT(paddusw, _mm_adds_epu16(a, b))
PACKED_INT(psubsb, _mm_subs_epi8(a, b))
PACKED_INT(psubsw, _mm_subs_epi16(a, b))
PACKED_INT(psubusb, _mm_subs_epu8(a, b))
PACKED_INT(psubusw, _mm_subs_epu16(a, b))
PACKED_INT(pmullw, _mm_mullo_epi16(a, b))
PACKED_INT(pmulhw, _mm_mulhi_epi16(a, b))
PACKED_INT(pmulhuw, _mm_mulhi_epu16(a, b))
PACKED_INT(pmuludq, _mm_mul_epu32(a, b))
PACKED_INT(pmaddwd, _mm_madd_epi16(a, b))
PACKED_INT(psadbw, _mm_sad_epu8(a, b))
PACKED_INT(pavgb, _mm_avg_epu8(a, b))
PACKED_INT(pavgw, _mm_avg_epu16(a, b))
PACKED_INT(pminub, _mm_min_epu8(a, b))
PACKED_INT(pmaxub, _mm_max_epu8(a, b))
PACKED_INT(pminsw, _mm_min_epi16(a, b))
PACKED_INT(pmaxsw, _mm_max_epi16(a, b))
PACKED_INT(pcmpeqb, _mm_cmpeq_epi8(a, b))
PACKED_INT(pcmpeqw, _mm_cmpeq_epi16(a, b))
PACKED_INT(pcmpeqd, _mm_cmpeq_epi32(a, b))
PACKED_INT(pcmpgtb, _mm_cmpgt_epi8(a, b))
PACKED_INT(pcmpgtw, _mm_cmpgt_epi16(a, b))
PACKED_INT(pcmpgtd, _mm_cmpgt_epi32(a, b))
PACKED_INT(pand, _mm_and_si128(a, b))
PACKED_INT(pandn, _mm_andnot_si128(a, b))
PACKED_INT(por, _mm_or_si128(a, b))
PACKED_INT(pxor, _mm_xor_si128(a, b))
/* Shifts by a count register: the count is the whole low quadword. */
PACKED_INT(psrlw, _mm_srl_epi16(a, b))
PACKED_INT(psrld, _mm_srl_epi32(a, b))
PACKED_INT(psrlq, _mm_srl_epi64(a, b))
PACKED_INT(psraw, _mm_sra_epi16(a, b))
PACKED_INT(psrad, _mm_sra_epi32(a, b))
PACKED_INT(psllw, _mm_sll_epi16(a, b))
PACKED_INT(pslld, _mm_sll_epi32(a, b))
PACKED_INT(psllq, _mm_sll_epi64(a, b))
/* MMX low unpacks read only the low half of their source: mm/m32 (Vol. 2B "PUNPCKLBW"). */
#define UNPACK_LOW(name, expr)								\
	static inline __m128i v_##name(__m128i a, __m128i b)				\
	{										\
		return expr;								\
	}										\
	XMM_INT(name)									\
	MM_INT_SIZED(name, mm_lanes(v_##name, a, b), 4)

UNPACK_LOW(punpcklbw, _mm_unpacklo_epi8(a, b))
UNPACK_LOW(punpcklwd, _mm_unpacklo_epi16(a, b))
UNPACK_LOW(punpckldq, _mm_unpacklo_epi32(a, b))

/* MMX high unpacks interleave the upper halves of 64-bit operands. */
#define UNPACK_HIGH(name, lo, hi)							\
	static inline __m128i v_##name(__m128i a, __m128i b)				\
	{										\
		return hi(a, b);							\
	}										\
	XMM_INT(name)									\
	MM_INT(name, (uint64_t)_mm_cvtsi128_si64(_mm_srli_si128(			\
		lo(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b)), 8)))

UNPACK_HIGH(punpckhbw, _mm_unpacklo_epi8, _mm_unpackhi_epi8)
UNPACK_HIGH(punpckhwd, _mm_unpacklo_epi16, _mm_unpackhi_epi16)
UNPACK_HIGH(punpckhdq, _mm_unpacklo_epi32, _mm_unpackhi_epi32)

/* MMX packs take the destination's elements into the low half, the source's into the high. */
#define PACK(name, fn)									\
	static inline __m128i v_##name(__m128i a, __m128i b)				\
	{										\
		return fn(a, b);							\
	}										\
	XMM_INT(name)									\
	MM_INT(name, (uint64_t)_mm_cvtsi128_si64(fn(					\
		_mm_set_epi64x((long long)b, (long long)a), _mm_setzero_si128())))

PACK(packsswb, _mm_packs_epi16)
PACK(packssdw, _mm_packs_epi32)
PACK(packuswb, _mm_packus_epi16)

static inline __m128i v_punpcklqdq(__m128i a, __m128i b)
{
	return _mm_unpacklo_epi64(a, b);
}

static inline __m128i v_punpckhqdq(__m128i a, __m128i b)
{
	return _mm_unpackhi_epi64(a, b);
}

XMM_INT(punpcklqdq)
XMM_INT(punpckhqdq)

/* Groups 12-14 (0F 71-73): shifts of the r/m register by imm8; in->op says which. */
enum shift_imm {
	SHIFT_PSRLW, SHIFT_PSRAW, SHIFT_PSLLW, SHIFT_PSRLD, SHIFT_PSRAD, SHIFT_PSLLD,
	SHIFT_PSRLQ, SHIFT_PSLLQ, SHIFT_PSRLDQ, SHIFT_PSLLDQ,
};

static __m128i shift_bytes(__m128i v, unsigned int count, bool left)
{
	uint8_t in[16], out[16] = { 0 };

	_mm_storeu_si128((__m128i *)(void *)in, v);
	if (count < 16) {
		if (left)
			memcpy(out + count, in, 16 - count);
		else
			memcpy(out, in + count, 16 - count);
	}
	return _mm_loadu_si128((const __m128i *)(const void *)out);
}

static __m128i shift_imm(__m128i v, enum shift_imm kind, unsigned int count)
{
	switch (kind) {
	case SHIFT_PSRLW: return _mm_srli_epi16(v, (int)count);
	case SHIFT_PSRAW: return _mm_srai_epi16(v, (int)count);
	case SHIFT_PSLLW: return _mm_slli_epi16(v, (int)count);
	case SHIFT_PSRLD: return _mm_srli_epi32(v, (int)count);
	case SHIFT_PSRAD: return _mm_srai_epi32(v, (int)count);
	case SHIFT_PSLLD: return _mm_slli_epi32(v, (int)count);
	case SHIFT_PSRLQ: return _mm_srli_epi64(v, (int)count);
	case SHIFT_PSLLQ: return _mm_slli_epi64(v, (int)count);
	case SHIFT_PSRLDQ: return shift_bytes(v, count, false);
	default: return shift_bytes(v, count, true);
	}
}

static int op_shift_imm_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	xmm_set(cpu, in->rm, shift_imm(xmm_get(cpu, in->rm), in->op, (unsigned int)in->imm));
	return insn_done(cpu, in);
}

static int op_shift_imm_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = mm_get(cpu, in->rm);
	mmx_enter(cpu);
	v = (uint64_t)_mm_cvtsi128_si64(shift_imm(_mm_cvtsi64_si128((long long)v), in->op,
						  (unsigned int)in->imm));
	mm_set(cpu, in->rm, v);
	return insn_done(cpu, in);
}

/* --- shuffles, inserts, extracts, masks --- */

static int op_pshufw(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t s = mm_source(cpu, in), r = 0;

	for (unsigned int i = 0; i < 4; i++)
		r |= ((s >> (16 * ((in->imm >> (2 * i)) & 3))) & 0xffff) << (16 * i);
	mmx_enter(cpu);
	mm_set(cpu, in->reg, r);
	return insn_done(cpu, in);
}

/* Shuffles four elements of `size` bytes at `first` of v by imm8. */
static __m128i shuffle4(__m128i v, unsigned int first, unsigned int size, unsigned int imm)
{
	uint8_t in[16], out[16];

	_mm_storeu_si128((__m128i *)(void *)in, v);
	memcpy(out, in, 16);
	for (unsigned int i = 0; i < 4; i++)
		memcpy(out + first + size * i, in + first + size * ((imm >> (2 * i)) & 3), size);
	return _mm_loadu_si128((const __m128i *)(const void *)out);
}

/* PSHUFD, PSHUFHW, PSHUFLW: four elements of `size` bytes from byte `first` of the source. */
static int pshuf(struct tcg_cpu *cpu, const struct insn *in, unsigned int first, unsigned int size)
{
	__m128i s;

	fpu_check_sse(cpu);
	s = xmm_source(cpu, in);
	xmm_set(cpu, in->reg, shuffle4(s, first, size, (unsigned int)in->imm));
	return insn_done(cpu, in);
}

static int op_pshufd(struct tcg_cpu *cpu, const struct insn *in)
{
	return pshuf(cpu, in, 0, 4);
}

static int op_pshufhw(struct tcg_cpu *cpu, const struct insn *in)
{
	return pshuf(cpu, in, 8, 2);
}

static int op_pshuflw(struct tcg_cpu *cpu, const struct insn *in)
{
	return pshuf(cpu, in, 0, 2);
}

static int op_shufps(struct tcg_cpu *cpu, const struct insn *in)
{
	uint32_t d[4], s[4], r[4];
	unsigned int imm = (unsigned int)in->imm;
	__m128i src;

	fpu_check_sse(cpu);
	src = xmm_source(cpu, in);
	_mm_storeu_si128((__m128i *)(void *)s, src);
	memcpy(d, cpu->fpu.xmm[in->reg], 16);
	r[0] = d[imm & 3];
	r[1] = d[(imm >> 2) & 3];
	r[2] = s[(imm >> 4) & 3];
	r[3] = s[(imm >> 6) & 3];
	memcpy(cpu->fpu.xmm[in->reg], r, 16);
	return insn_done(cpu, in);
}

static int op_shufpd(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t d[2], s[2], r[2];
	__m128i src;

	fpu_check_sse(cpu);
	src = xmm_source(cpu, in);
	_mm_storeu_si128((__m128i *)(void *)s, src);
	memcpy(d, cpu->fpu.xmm[in->reg], 16);
	r[0] = d[in->imm & 1];
	r[1] = s[(in->imm >> 1) & 1];
	memcpy(cpu->fpu.xmm[in->reg], r, 16);
	return insn_done(cpu, in);
}

/* PINSRW mm/xmm, r32/m16, imm8. */
static int op_pinsrw_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int shift = 16 * (in->imm & 3);
	uint64_t w, v;

	fpu_check_mmx(cpu);
	w = rm_read(cpu, in, 2);
	v = mm_get(cpu, in->reg);
	mmx_enter(cpu);
	mm_set(cpu, in->reg, (v & ~(0xffffULL << shift)) | w << shift);
	return insn_done(cpu, in);
}

static int op_pinsrw_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t w;

	fpu_check_sse(cpu);
	w = (uint16_t)rm_read(cpu, in, 2);
	memcpy(cpu->fpu.xmm[in->reg] + 2 * (in->imm & 7), &w, 2);
	return insn_done(cpu, in);
}

/* PEXTRW r32/64, mm/xmm, imm8 (register forms only): zero-extended. */
static int op_pextrw_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = mm_get(cpu, in->rm);
	mmx_enter(cpu);
	reg_write(cpu, in->reg, gpr_size(in), (v >> (16 * (in->imm & 3))) & 0xffff);
	return insn_done(cpu, in);
}

static int op_pextrw_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t w;

	fpu_check_sse(cpu);
	memcpy(&w, cpu->fpu.xmm[in->rm] + 2 * (in->imm & 7), 2);
	reg_write(cpu, in->reg, gpr_size(in), w);
	return insn_done(cpu, in);
}

static int op_pmovmskb_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = mm_get(cpu, in->rm);
	mmx_enter(cpu);
	reg_write(cpu, in->reg, gpr_size(in),
		  (uint64_t)_mm_movemask_epi8(_mm_cvtsi64_si128((long long)v)) & 0xff);
	return insn_done(cpu, in);
}

static int op_pmovmskb_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	reg_write(cpu, in->reg, gpr_size(in), (uint64_t)_mm_movemask_epi8(xmm_get(cpu, in->rm)));
	return insn_done(cpu, in);
}

static int op_movmskps(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	reg_write(cpu, in->reg, gpr_size(in),
		  (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(xmm_get(cpu, in->rm))));
	return insn_done(cpu, in);
}

static int op_movmskpd(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	reg_write(cpu, in->reg, gpr_size(in),
		  (uint64_t)_mm_movemask_pd(_mm_castsi128_pd(xmm_get(cpu, in->rm))));
	return insn_done(cpu, in);
}

/*
 * MASKMOVQ / MASKMOVDQU: the bytes of the reg operand whose mask byte (rm
 * operand) has bit 7 set go to seg:rDI (DS unless overridden).  The whole
 * 8/16-byte range is checked for writing first, whatever the mask, and
 * MASKMOVQ switches to MMX mode even when that faults (both as the
 * processor does, measured).
 */
static void masked_store(struct tcg_cpu *cpu, const struct insn *in, const uint8_t *data,
			 unsigned int mask, unsigned int n)
{
	uint64_t base = cpu->regs[7] & size_mask(in->asize);

	fpu_check_write(cpu, in->seg, base, n, 8);
	for (unsigned int i = 0; i < n; i++)
		if (mask & (1u << i))
			mem_write(cpu, in->seg, (base + i) & size_mask(in->asize), 1, data[i]);
}

static int op_maskmovq(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t data, mask;

	fpu_check_mmx(cpu);
	mmx_enter(cpu);
	data = mm_get(cpu, in->reg);
	mask = mm_get(cpu, in->rm);
	masked_store(cpu, in, (const uint8_t *)&data,
		     (unsigned int)_mm_movemask_epi8(_mm_cvtsi64_si128((long long)mask)) & 0xff, 8);
	return insn_done(cpu, in);
}

static int op_maskmovdqu(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	masked_store(cpu, in, cpu->fpu.xmm[in->reg], (unsigned int)_mm_movemask_epi8(xmm_get(cpu, in->rm)),
		     16);
	return insn_done(cpu, in);
}

static int op_emms(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_mmx(cpu);
	/* All tags empty; TOP reads 0 afterwards (checked on hardware). */
	fpu_set_top(&cpu->fpu, 0);
	cpu->fpu.ftw = 0;
	return insn_done(cpu, in);
}

/* --- moves --- */

/* MOVUPS/MOVUPD/MOVDQU xmm, xmm/m128 and the aligned MOVAPS/MOVAPD/MOVDQA. */
static int op_movu_load(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	xmm_set(cpu, in->reg, (in->flags & INSN_MEM) ? load128(cpu, in, false) : xmm_get(cpu, in->rm));
	return insn_done(cpu, in);
}

static int op_mova_load(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	xmm_set(cpu, in->reg, xmm_source(cpu, in));
	return insn_done(cpu, in);
}

/* ... xmm/m128, xmm; also MOVNTPS/MOVNTPD/MOVNTDQ (aligned, memory only). */
static int op_movu_store(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	if (in->flags & INSN_MEM)
		store128(cpu, in, xmm_get(cpu, in->reg), false);
	else
		xmm_set(cpu, in->rm, xmm_get(cpu, in->reg));
	return insn_done(cpu, in);
}

static int op_mova_store(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	if (in->flags & INSN_MEM)
		store128(cpu, in, xmm_get(cpu, in->reg), true);
	else
		xmm_set(cpu, in->rm, xmm_get(cpu, in->reg));
	return insn_done(cpu, in);
}

/* MOVSS/MOVSD loads (size 4, 8): register to register moves the low element, memory zero-extends. */
static int scalar_load(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	fpu_check_sse(cpu);
	if (in->flags & INSN_MEM)
		xmm_set(cpu, in->reg, _mm_cvtsi64_si128((long long)load_mem(cpu, in, size)));
	else
		memcpy(cpu->fpu.xmm[in->reg], cpu->fpu.xmm[in->rm], size);
	return insn_done(cpu, in);
}

/* ... and stores: the low element to memory or to the low element of xmm rm. */
static int scalar_store(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	uint64_t v = 0;

	fpu_check_sse(cpu);
	memcpy(&v, cpu->fpu.xmm[in->reg], size);
	if (in->flags & INSN_MEM)
		store_mem(cpu, in, size, v);
	else
		memcpy(cpu->fpu.xmm[in->rm], &v, size);
	return insn_done(cpu, in);
}

static int op_movss_load(struct tcg_cpu *cpu, const struct insn *in)
{
	return scalar_load(cpu, in, 4);
}

static int op_movsd_load(struct tcg_cpu *cpu, const struct insn *in)
{
	return scalar_load(cpu, in, 8);
}

static int op_movss_store(struct tcg_cpu *cpu, const struct insn *in)
{
	return scalar_store(cpu, in, 4);
}

static int op_movsd_store(struct tcg_cpu *cpu, const struct insn *in)
{
	return scalar_store(cpu, in, 8);
}

/* MOVLPS/MOVLPD xmm, m64 and MOVHPS/MOVHPD xmm, m64: one half from memory. */
static int op_movlps_load(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	v = load_mem(cpu, in, 8);
	memcpy(cpu->fpu.xmm[in->reg], &v, 8);
	return insn_done(cpu, in);
}

static int op_movhps_load(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	v = load_mem(cpu, in, 8);
	memcpy(cpu->fpu.xmm[in->reg] + 8, &v, 8);
	return insn_done(cpu, in);
}

static int op_movlps_store(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	memcpy(&v, cpu->fpu.xmm[in->reg], 8);
	store_mem(cpu, in, 8, v);
	return insn_done(cpu, in);
}

static int op_movhps_store(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	memcpy(&v, cpu->fpu.xmm[in->reg] + 8, 8);
	store_mem(cpu, in, 8, v);
	return insn_done(cpu, in);
}

/* MOVHLPS: low half <- source's high half.  MOVLHPS: high half <- source's low half. */
static int op_movhlps(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	memmove(cpu->fpu.xmm[in->reg], cpu->fpu.xmm[in->rm] + 8, 8);
	return insn_done(cpu, in);
}

static int op_movlhps(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	memmove(cpu->fpu.xmm[in->reg] + 8, cpu->fpu.xmm[in->rm], 8);
	return insn_done(cpu, in);
}

/* MOVD/MOVQ mm, r/m32/64 (0F 6E) and xmm, r/m32/64 (66 0F 6E): zero-extended. */
static int op_movd_to_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = rm_read(cpu, in, gpr_size(in));
	mmx_enter(cpu);
	mm_set(cpu, in->reg, v);
	return insn_done(cpu, in);
}

static int op_movd_to_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	v = rm_read(cpu, in, gpr_size(in));
	xmm_set(cpu, in->reg, _mm_cvtsi64_si128((long long)v));
	return insn_done(cpu, in);
}

/* MOVD/MOVQ r/m32/64, mm (0F 7E) and r/m32/64, xmm (66 0F 7E). */
static int op_movd_from_mm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = mm_get(cpu, in->reg);
	rm_write(cpu, in, gpr_size(in), v);
	mmx_enter(cpu);
	return insn_done(cpu, in);
}

static int op_movd_from_xmm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	memcpy(&v, cpu->fpu.xmm[in->reg], 8);
	rm_write(cpu, in, gpr_size(in), v);
	return insn_done(cpu, in);
}

/* MOVQ mm, mm/m64 (0F 6F) and mm/m64, mm (0F 7F; MOVNTQ 0F E7). */
static int op_movq_mm_load(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = mm_source(cpu, in);

	mmx_enter(cpu);
	mm_set(cpu, in->reg, v);
	return insn_done(cpu, in);
}

static int op_movq_mm_store(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_mmx(cpu);
	v = mm_get(cpu, in->reg);
	if (in->flags & INSN_MEM)
		store_mem(cpu, in, 8, v);
	mmx_enter(cpu);
	if (!(in->flags & INSN_MEM))
		mm_set(cpu, in->rm, v);
	return insn_done(cpu, in);
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E): zero-extended. */
static int op_movq_xmm_load(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	if (in->flags & INSN_MEM)
		v = load_mem(cpu, in, 8);
	else
		memcpy(&v, cpu->fpu.xmm[in->rm], 8);
	xmm_set(cpu, in->reg, _mm_cvtsi64_si128((long long)v));
	return insn_done(cpu, in);
}

/* MOVQ xmm/m64, xmm (66 0F D6): a register destination is zero-extended. */
static int op_movq_xmm_store(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	memcpy(&v, cpu->fpu.xmm[in->reg], 8);
	if (in->flags & INSN_MEM)
		store_mem(cpu, in, 8, v);
	else
		xmm_set(cpu, in->rm, _mm_cvtsi64_si128((long long)v));
	return insn_done(cpu, in);
}

/* MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6): SSE2 with MMX registers. */
static int op_movq2dq(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	fpu_check_pending(cpu);
	v = mm_get(cpu, in->rm);
	mmx_enter(cpu);
	xmm_set(cpu, in->reg, _mm_cvtsi64_si128((long long)v));
	return insn_done(cpu, in);
}

static int op_movdq2q(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	fpu_check_sse(cpu);
	fpu_check_pending(cpu);
	memcpy(&v, cpu->fpu.xmm[in->rm], 8);
	mmx_enter(cpu);
	mm_set(cpu, in->reg, v);
	return insn_done(cpu, in);
}

/* MOVNTI m32/64, r32/64: a plain store; no x87/SSE state involved (Vol. 3A §13.1.3). */
static int op_movnti(struct tcg_cpu *cpu, const struct insn *in)
{
	store_mem(cpu, in, gpr_size(in), reg_read(cpu, in->reg, gpr_size(in)));
	return insn_done(cpu, in);
}

/* --- decoding --- */

struct sse_entry {
	insn_fn fn[4];		/* by enum sse_prefix */
	uint8_t reg_only;	/* bit per prefix: only the register form exists */
	uint8_t mem_only;	/* bit per prefix: only the memory form exists */
};

#define NP	(1u << SSE_NP)
#define P66	(1u << SSE_66)
#define PF3	(1u << SSE_F3)
#define PF2	(1u << SSE_F2)

/* MMX form without prefix, SSE2 form with 66. */
#define INT_PAIR(name)	{ { op_##name##_mm, op_##name##_xmm } }
/* Single, double, scalar single, scalar double. */
#define FP4(name)	{ { op_##name##ps, op_##name##pd, op_##name##ss, op_##name##sd } }

static const struct sse_entry sse_table[256] = {
	[0x10] = { { op_movu_load, op_movu_load, op_movss_load, op_movsd_load } },
	[0x11] = { { op_movu_store, op_movu_store, op_movss_store, op_movsd_store } },
	/* 12, 16: by the ModRM form, in sse_decode(). */
	[0x13] = { { op_movlps_store, op_movlps_store }, .mem_only = NP | P66 },
	[0x14] = { { op_punpckldq_xmm, op_punpcklqdq_xmm } },	/* UNPCKLPS, UNPCKLPD */
	[0x15] = { { op_punpckhdq_xmm, op_punpckhqdq_xmm } },	/* UNPCKHPS, UNPCKHPD */
	[0x17] = { { op_movhps_store, op_movhps_store }, .mem_only = NP | P66 },
	[0x28] = { { op_mova_load, op_mova_load } },
	[0x29] = { { op_mova_store, op_mova_store } },
	[0x2a] = { { op_cvtpi2ps, op_cvtpi2pd, op_cvtsi2ss, op_cvtsi2sd } },
	[0x2b] = { { op_mova_store, op_mova_store }, .mem_only = NP | P66 },	/* MOVNTPS/PD */
	[0x2c] = { { op_cvttps2pi, op_cvttpd2pi, op_cvttss2si, op_cvttsd2si } },
	[0x2d] = { { op_cvtps2pi, op_cvtpd2pi, op_cvtss2si, op_cvtsd2si } },
	[0x2e] = { { op_ucomiss, op_ucomisd } },
	[0x2f] = { { op_comiss, op_comisd } },
	[0x50] = { { op_movmskps, op_movmskpd }, .reg_only = NP | P66 },
	[0x51] = FP4(sqrt),
	[0x52] = { { op_rsqrtps, NULL, op_rsqrtss } },
	[0x53] = { { op_rcpps, NULL, op_rcpss } },
	[0x54] = { { op_pand_xmm, op_pand_xmm } },	/* ANDPS, ANDPD */
	[0x55] = { { op_pandn_xmm, op_pandn_xmm } },	/* ANDNPS, ANDNPD */
	[0x56] = { { op_por_xmm, op_por_xmm } },	/* ORPS, ORPD */
	[0x57] = { { op_pxor_xmm, op_pxor_xmm } },	/* XORPS, XORPD */
	[0x58] = FP4(add),
	[0x59] = FP4(mul),
	[0x5a] = { { op_cvtps2pd, op_cvtpd2ps, op_cvtss2sd, op_cvtsd2ss } },
	[0x5b] = { { op_cvtdq2ps, op_cvtps2dq, op_cvttps2dq } },
	[0x5c] = FP4(sub),
	[0x5d] = FP4(min),
	[0x5e] = FP4(div),
	[0x5f] = FP4(max),
	[0x60] = INT_PAIR(punpcklbw), [0x61] = INT_PAIR(punpcklwd), [0x62] = INT_PAIR(punpckldq),
	[0x63] = INT_PAIR(packsswb), [0x64] = INT_PAIR(pcmpgtb), [0x65] = INT_PAIR(pcmpgtw),
	[0x66] = INT_PAIR(pcmpgtd), [0x67] = INT_PAIR(packuswb), [0x68] = INT_PAIR(punpckhbw),
	[0x69] = INT_PAIR(punpckhwd), [0x6a] = INT_PAIR(punpckhdq), [0x6b] = INT_PAIR(packssdw),
	[0x6c] = { { NULL, op_punpcklqdq_xmm } }, [0x6d] = { { NULL, op_punpckhqdq_xmm } },
	[0x6e] = { { op_movd_to_mm, op_movd_to_xmm } },
	[0x6f] = { { op_movq_mm_load, op_mova_load, op_movu_load } },	/* MOVQ, MOVDQA, MOVDQU */
	[0x70] = { { op_pshufw, op_pshufd, op_pshufhw, op_pshuflw } },
	/* 71-73: groups 12-14, in sse_decode(). */
	[0x74] = INT_PAIR(pcmpeqb), [0x75] = INT_PAIR(pcmpeqw), [0x76] = INT_PAIR(pcmpeqd),
	[0x77] = { { op_emms } },
	[0x7e] = { { op_movd_from_mm, op_movd_from_xmm, op_movq_xmm_load } },
	[0x7f] = { { op_movq_mm_store, op_mova_store, op_movu_store } },	/* MOVQ, MOVDQA, MOVDQU */
	[0xc2] = FP4(cmp),
	[0xc3] = { { op_movnti }, .mem_only = NP },
	[0xc4] = { { op_pinsrw_mm, op_pinsrw_xmm } },
	[0xc5] = { { op_pextrw_mm, op_pextrw_xmm }, .reg_only = NP | P66 },
	[0xc6] = { { op_shufps, op_shufpd } },
	[0xd1] = INT_PAIR(psrlw), [0xd2] = INT_PAIR(psrld), [0xd3] = INT_PAIR(psrlq),
	[0xd4] = INT_PAIR(paddq), [0xd5] = INT_PAIR(pmullw),
	[0xd6] = { { NULL, op_movq_xmm_store, op_movq2dq, op_movdq2q }, .reg_only = PF3 | PF2 },
	[0xd7] = { { op_pmovmskb_mm, op_pmovmskb_xmm }, .reg_only = NP | P66 },
	[0xd8] = INT_PAIR(psubusb), [0xd9] = INT_PAIR(psubusw), [0xda] = INT_PAIR(pminub),
	[0xdb] = INT_PAIR(pand), [0xdc] = INT_PAIR(paddusb), [0xdd] = INT_PAIR(paddusw),
	[0xde] = INT_PAIR(pmaxub), [0xdf] = INT_PAIR(pandn),
	[0xe0] = INT_PAIR(pavgb), [0xe1] = INT_PAIR(psraw), [0xe2] = INT_PAIR(psrad),
	[0xe3] = INT_PAIR(pavgw), [0xe4] = INT_PAIR(pmulhuw), [0xe5] = INT_PAIR(pmulhw),
	[0xe6] = { { NULL, op_cvttpd2dq, op_cvtdq2pd, op_cvtpd2dq } },
	[0xe7] = { { op_movq_mm_store, op_mova_store }, .mem_only = NP | P66 },	/* MOVNTQ, MOVNTDQ */
	[0xe8] = INT_PAIR(psubsb), [0xe9] = INT_PAIR(psubsw), [0xea] = INT_PAIR(pminsw),
	[0xeb] = INT_PAIR(por), [0xec] = INT_PAIR(paddsb), [0xed] = INT_PAIR(paddsw),
	[0xee] = INT_PAIR(pmaxsw), [0xef] = INT_PAIR(pxor),
	[0xf1] = INT_PAIR(psllw), [0xf2] = INT_PAIR(pslld), [0xf3] = INT_PAIR(psllq),
	[0xf4] = INT_PAIR(pmuludq), [0xf5] = INT_PAIR(pmaddwd), [0xf6] = INT_PAIR(psadbw),
	[0xf7] = { { op_maskmovq, op_maskmovdqu }, .reg_only = NP | P66 },
	[0xf8] = INT_PAIR(psubb), [0xf9] = INT_PAIR(psubw), [0xfa] = INT_PAIR(psubd),
	[0xfb] = INT_PAIR(psubq), [0xfc] = INT_PAIR(paddb), [0xfd] = INT_PAIR(paddw),
	[0xfe] = INT_PAIR(paddd),
};

/* Groups 12-14 by opcode (71, 72, 73) and ModRM.reg; -1: no such form. */
static const int8_t shift_groups[3][8] = {
	{ -1, -1, SHIFT_PSRLW, -1, SHIFT_PSRAW, -1, SHIFT_PSLLW, -1 },
	{ -1, -1, SHIFT_PSRLD, -1, SHIFT_PSRAD, -1, SHIFT_PSLLD, -1 },
	{ -1, -1, SHIFT_PSRLQ, SHIFT_PSRLDQ, -1, -1, SHIFT_PSLLQ, SHIFT_PSLLDQ },
};

insn_fn sse_decode(struct insn *in, uint8_t opcode, enum sse_prefix prefix, uint8_t modrm)
{
	const struct sse_entry *e = &sse_table[opcode];
	bool mem = in->flags & INSN_MEM;
	unsigned int bit = 1u << prefix;

	switch (opcode) {
	case 0x12:	/* MOVLPS xmm, m64 / MOVHLPS xmm, xmm; MOVLPD xmm, m64 */
		if (prefix == SSE_NP)
			return mem ? op_movlps_load : op_movhlps;
		return prefix == SSE_66 && mem ? op_movlps_load : NULL;
	case 0x16:	/* MOVHPS xmm, m64 / MOVLHPS xmm, xmm; MOVHPD xmm, m64 */
		if (prefix == SSE_NP)
			return mem ? op_movhps_load : op_movlhps;
		return prefix == SSE_66 && mem ? op_movhps_load : NULL;
	case 0x71: case 0x72: case 0x73: {
		int kind = shift_groups[opcode - 0x71][(modrm >> 3) & 7];

		if (mem || kind < 0 || (prefix != SSE_NP && prefix != SSE_66))
			return NULL;
		if ((kind == SHIFT_PSRLDQ || kind == SHIFT_PSLLDQ) && prefix != SSE_66)
			return NULL;
		in->op = (uint8_t)kind;
		return prefix == SSE_NP ? op_shift_imm_mm : op_shift_imm_xmm;
	}
	}
	if (((e->reg_only & bit) && mem) || ((e->mem_only & bit) && !mem))
		return NULL;
	return e->fn[prefix];
}

/* The 0F xx SSE/MMX entries are routed through sse_decode(); the table entry never runs. */
int op_sse(struct tcg_cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_raise_ud(cpu);
}

/*
 * What the JIT (jit.c) compiles of SSE: 128-bit moves, MOVSD, PMOVMSKB and
 * the packed integer operations below, each as the host's own instruction
 * (66 0F opcode; the NP forms that share a handler, such as XORPS or
 * UNPCKLPS, give the same result as that opcode).
 */
bool sse_jit_form(const struct insn *in, struct sse_form *form)
{
	static const struct {
		insn_fn fn;
		uint8_t opcode;		/* of the 66 0F form */
	} int_ops[] = {
		{ op_paddb_xmm, 0xfc }, { op_paddw_xmm, 0xfd }, { op_paddd_xmm, 0xfe }, { op_paddq_xmm, 0xd4 },
		{ op_psubb_xmm, 0xf8 }, { op_psubw_xmm, 0xf9 }, { op_psubd_xmm, 0xfa }, { op_psubq_xmm, 0xfb },
		{ op_pcmpeqb_xmm, 0x74 }, { op_pcmpeqw_xmm, 0x75 }, { op_pcmpeqd_xmm, 0x76 },
		{ op_pcmpgtb_xmm, 0x64 }, { op_pcmpgtw_xmm, 0x65 }, { op_pcmpgtd_xmm, 0x66 },
		{ op_pand_xmm, 0xdb }, { op_pandn_xmm, 0xdf }, { op_por_xmm, 0xeb }, { op_pxor_xmm, 0xef },
		{ op_pminub_xmm, 0xda }, { op_pmaxub_xmm, 0xde },
		{ op_punpcklbw_xmm, 0x60 }, { op_punpcklwd_xmm, 0x61 }, { op_punpckldq_xmm, 0x62 },
	};

	if (in->fn == op_movu_load || in->fn == op_mova_load) {
		*form = (struct sse_form){ SSE_MOV128_LOAD, in->fn == op_mova_load, 0 };
		return true;
	}
	if (in->fn == op_movu_store || in->fn == op_mova_store) {
		*form = (struct sse_form){ SSE_MOV128_STORE, in->fn == op_mova_store, 0 };
		return true;
	}
	if (in->fn == op_movsd_load || in->fn == op_movsd_store) {
		*form = (struct sse_form){ in->fn == op_movsd_load ? SSE_MOV64_LOAD : SSE_MOV64_STORE, false, 0 };
		return true;
	}
	if (in->fn == op_pmovmskb_xmm) {
		*form = (struct sse_form){ SSE_MOVMSK, false, 0 };
		return true;
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(int_ops); i++) {
		if (in->fn == int_ops[i].fn) {
			*form = (struct sse_form){ SSE_INT_OP, true, int_ops[i].opcode };
			return true;
		}
	}
	return false;
}
