/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Random x87, MMX, SSE and SSE2 instructions (Intel SDM Vol. 2 opcode maps,
 * Appendix A Tables ).
 *
 * The state the instructions start from matters as much as the
 * instructions: gen_simd_setup() gives every case random x87 control and
 * status words (rounding, precision, masks, TOP, condition codes), tags and
 * 80-bit register contents drawn from the interesting encodings (zeros,
 * denormals and pseudo-denormals, unnormals, infinities, quiet and
 * signalling NaNs, the indefinite, pseudo-NaNs), a random MXCSR (rounding,
 * FTZ, DAZ, sometimes unmasked exceptions) and FP-shaped XMM and memory
 * values, so results, flags and exceptions are exercised, not just moves.
 *
 * Left out: encodings of SSE3 and later (FISTTP, MOVDDUP, HADDPS, LDDQU,
 * ...) and AMD's SSE4a, which the host has and the software CPU rightly
 * rejects.
 */
#include <string.h>

#include "gen_simd.h"

#define GPR_BIT(reg)	(1u << (reg))
#define RESERVED_GPRS	(GPR_BIT(X86_RSP) | GPR_BIT(DT_REG_DATA_BASE) | GPR_BIT(DT_REG_DATA_INDEX))

static const struct flags_effect no_flags;
static const struct flags_effect all_flags = { FL_STATUS, 0 };

/* --- interesting floating-point values --- */

enum fp_kind {
	FP_ZERO, FP_ONE, FP_NORMAL, FP_HUGE, FP_TINY, FP_DENORMAL, FP_INF, FP_QNAN, FP_SNAN,
	FP_INTEGER, FP_HALF, FP_INT_LIMIT, FP_RANDOM, FP_KINDS,
};

/* A float or double by its fields: mantissa bits, exponent bits, bias. */
static uint64_t fp_value(struct rng *rng, unsigned int mant_bits, unsigned int exp_bits)
{
	uint64_t mant_mask = (1ULL << mant_bits) - 1, exp_max = (1ULL << exp_bits) - 1;
	uint64_t bias = exp_max >> 1, exp, mant = rng_next(rng) & mant_mask;
	uint64_t sign = rng_percent(rng, 40) ? 1 : 0;

	switch (rng_below(rng, FP_KINDS)) {
	case FP_ZERO: exp = 0; mant = 0; break;
	case FP_ONE: exp = bias; mant = 0; break;
	case FP_NORMAL: exp = bias - 40 + rng_below(rng, 80); break;
	case FP_HUGE: exp = exp_max - 1 - rng_below(rng, 3); break;
	case FP_TINY: exp = 1 + rng_below(rng, 3); break;
	case FP_DENORMAL: exp = 0; mant >>= rng_below(rng, mant_bits); mant |= !mant; break;
	case FP_INF: exp = exp_max; mant = 0; break;
	case FP_QNAN: exp = exp_max; mant |= 1ULL << (mant_bits - 1); break;
	case FP_SNAN:
		exp = exp_max;
		mant &= (1ULL << (mant_bits - 1)) - 1;
		mant |= !mant;
		break;
	case FP_INTEGER:	/* a small integer: exact conversions */
		exp = bias + rng_below(rng, 12);
		mant &= ~((1ULL << (mant_bits - (exp - bias))) - 1);
		break;
	case FP_HALF:		/* n + 0.5 and friends: rounding-mode sensitive */
		exp = bias + rng_below(rng, 6);
		mant &= ~((1ULL << (mant_bits - (exp - bias) - 1)) - 1);
		mant |= 1ULL << (mant_bits - (exp - bias) - 1);
		break;
	case FP_INT_LIMIT:	/* around 2^31 and 2^63: integer conversion limits */
		exp = bias + (rng_percent(rng, 50) ? 31 : 63) - rng_below(rng, 2);
		mant = rng_percent(rng, 50) ? 0 : mant_mask & ~(rng_below(rng, 4));
		break;
	default:
		/* Any bit pattern of the format's width (64 bits: all of them). */
		return rng_next(rng) & (~0ULL >> (63 - mant_bits - exp_bits));
	}
	return sign << (mant_bits + exp_bits) | exp << mant_bits | mant;
}

static uint32_t fp_float(struct rng *rng)
{
	return (uint32_t)fp_value(rng, 23, 8);
}

static uint64_t fp_double(struct rng *rng)
{
	return fp_value(rng, 52, 11);
}

/* An 80-bit extended value, including the encodings only it has (Vol. 1 §8.2.2). */
static void fp_extended(struct rng *rng, uint8_t out[10])
{
	uint64_t mant = rng_next(rng), explicit_one = 1ULL << 63;
	uint16_t exp, sign = rng_percent(rng, 40) ? 0x8000 : 0;

	switch (rng_below(rng, 16)) {
	case 0: exp = 0; mant = 0; break;
	case 1: exp = 0x3fff; mant = explicit_one; break;
	case 2: exp = (uint16_t)(0x3fff - 40 + rng_below(rng, 80)); mant |= explicit_one; break;
	case 3: exp = (uint16_t)(0x7ffe - rng_below(rng, 3)); mant |= explicit_one; break;
	case 4: exp = (uint16_t)(1 + rng_below(rng, 3)); mant |= explicit_one; break;
	case 5: exp = 0; mant = (mant & ~explicit_one) >> rng_below(rng, 63); mant |= !mant; break;
	case 6: exp = 0; mant |= explicit_one; break;			/* pseudo-denormal */
	case 7: exp = (uint16_t)(1 + rng_below(rng, 0x7ffe)); mant &= ~explicit_one; break;	/* unnormal */
	case 8: exp = 0x7fff; mant = explicit_one; break;		/* infinity */
	case 9: exp = 0x7fff; mant |= 3ULL << 62; break;		/* quiet NaN */
	case 10: exp = 0x7fff; mant = (mant & ~(3ULL << 62)) | explicit_one | 1; break;	/* signalling */
	case 11: exp = 0x7fff; mant = 3ULL << 62; sign = 0x8000; break;	/* indefinite */
	case 12: exp = 0x7fff; mant &= ~explicit_one; break;		/* pseudo-NaN/infinity */
	case 13:	/* an integer, some at the int16/32/64 limits */
		exp = (uint16_t)(0x3fff + (rng_percent(rng, 50) ? rng_below(rng, 16) :
					   rng_percent(rng, 50) ? 31 : 63));
		mant = explicit_one | (rng_percent(rng, 50) ? 0 : mant & (explicit_one - 1) &
				       ~((1ULL << (63 - (exp - 0x3fff))) - 1));
		break;
	case 14:	/* n + 0.5 */
		exp = (uint16_t)(0x3fff + rng_below(rng, 8));
		mant = explicit_one | 1ULL << (62 - (exp - 0x3fff));
		break;
	default: exp = (uint16_t)rng_next(rng); break;
	}
	memcpy(out, &mant, 8);
	exp |= sign;
	memcpy(out + 8, &exp, 2);
}

/* Random bytes of data pages replaced by FP-shaped values. */
static void plant_fp_data(struct dt_builder *b)
{
	struct rng *rng = b->rng;

	for (uint64_t addr = SB_DATA_ADDR; addr < SB_DATA_ADDR + SB_DATA_SIZE; addr += 8) {
		if (!rng_percent(rng, 40))
			continue;
		switch (rng_below(rng, 3)) {
		case 0: {
			uint32_t v[2] = { fp_float(rng), fp_float(rng) };

			sb_write(b->c->pages, addr, v, 8);
			break;
		}
		case 1: {
			uint64_t v = fp_double(rng);

			sb_write(b->c->pages, addr, &v, 8);
			break;
		}
		default:
			if (addr + 16 <= SB_DATA_ADDR + SB_DATA_SIZE) {
				uint8_t v[10];

				fp_extended(rng, v);
				sb_write(b->c->pages, addr, v, 10);
				addr += 8;
			}
			break;
		}
	}
}

static void emit_fxrstor_state(struct dt_builder *b);

void gen_simd_setup(struct dt_builder *b)
{
	struct x86_fxsave *fpu = &b->c->state.fpu;
	struct rng *rng = b->rng;
	uint16_t masks = 0x3f, flags;

	/* x87: precision and rounding control, mostly all exceptions masked. */
	if (rng_percent(rng, 10))
		masks = (uint16_t)rng_below(rng, 64);
	fpu->fcw = (uint16_t)(0x0040 | masks | rng_below(rng, 4) << 8 | rng_below(rng, 4) << 10);
	/* Status: TOP, condition codes, sticky flags; a pending exception only rarely. */
	flags = (uint16_t)rng_below(rng, 128);
	if (!rng_percent(rng, 5))
		flags &= (uint16_t)(masks | 0x40);
	fpu->fsw = (uint16_t)(flags | rng_below(rng, 8) << 11 | (rng_next(rng) & 0x4700));
	if (flags & ~masks & 0x3f)
		fpu->fsw |= 0x8080;	/* ES and B follow the unmasked flags */
	fpu->ftw = 0;
	for (unsigned int r = 0; r < 8; r++) {
		if (rng_percent(rng, 75))
			fpu->ftw |= (uint8_t)(1u << r);
		memset(fpu->st[r], 0, 16);
		fp_extended(rng, fpu->st[r]);
	}

	/* SSE: rounding, FTZ, DAZ; mostly masked; sometimes sticky flags already set. */
	fpu->mxcsr = 0x1f80u | (uint32_t)rng_below(rng, 4) << 13;
	if (rng_percent(rng, 15))
		fpu->mxcsr |= 0x8000;	/* FTZ */
	if (rng_percent(rng, 15))
		fpu->mxcsr |= 0x0040;	/* DAZ */
	if (rng_percent(rng, 10))
		fpu->mxcsr &= ~((uint32_t)rng_below(rng, 64) << 7);
	if (rng_percent(rng, 40))
		fpu->mxcsr |= (uint32_t)rng_below(rng, 64);
	for (unsigned int i = 0; i < 16; i++) {
		switch (rng_below(rng, 3)) {
		case 0:
			for (unsigned int j = 0; j < 16; j += 4) {
				uint32_t v = fp_float(rng);

				memcpy(&fpu->xmm[i][j], &v, 4);
			}
			break;
		case 1:
			for (unsigned int j = 0; j < 16; j += 8) {
				uint64_t v = fp_double(rng);

				memcpy(&fpu->xmm[i][j], &v, 8);
			}
			break;
		default:
			break;	/* dt_begin's random bits: integer data */
		}
	}
	plant_fp_data(b);
	emit_fxrstor_state(b);
}

/* --- operands --- */

/* A register a form may write: not RSP and not the generator's data pointers. */
static unsigned int pick_gpr(struct dt_builder *b, bool writable)
{
	for (;;) {
		unsigned int reg = (unsigned int)rng_below(b->rng, 16);

		if (!writable || !(GPR_BIT(reg) & RESERVED_GPRS))
			return reg;
	}
}

/* MMX registers ignore REX.R/REX.B: numbers 8-15 name MM0-MM7 again. */
static unsigned int pick_mm(struct dt_builder *b)
{
	return (unsigned int)rng_below(b->rng, rng_percent(b->rng, 90) ? 8 : 16);
}

/* A memory operand at a data address the generator chose (R15-relative). */
static void mem_at(struct dt_builder *b, struct mem_operand *m, uint64_t target)
{
	memset(m, 0, sizeof(*m));
	m->base = DT_REG_DATA_BASE;
	m->index = MEM_NO_INDEX;
	m->scale = 1;
	m->disp = (int32_t)(int64_t)(target - b->data_base);
	m->disp_size = 4;
}

/* A data-page address with room for size bytes, aligned to align. */
static uint64_t pick_slot(struct dt_builder *b, unsigned int size, unsigned int align)
{
	return (SB_DATA_ADDR + rng_below(b->rng, SB_DATA_SIZE - size + 1)) & ~(uint64_t)(align - 1);
}

/* Defines the flags FCMOVcc reads when earlier instructions left them undefined. */
static void define_flags(struct dt_builder *b, uint32_t reads)
{
	static const uint8_t cmp[] = { 0x39, 0xc8 };

	if (b->undefined & reads)
		dt_emit_bytes(b, cmp, sizeof(cmp), all_flags, "cmp eax, ecx");
}

/* STMXCSR to a data slot: MXCSR is not in the state KVM reports here. */
static void emit_stmxcsr(struct dt_builder *b)
{
	struct insn in = { .opcode = { 0x0f, 0xae }, .opcode_len = 2, .has_modrm = true,
			   .digit = true, .modrm_reg = 3, .opcode_reg = -1 };
	char text[64];

	in.rm.kind = OPND_MEM;
	mem_at(b, &in.rm.mem, pick_slot(b, 4, 4));
	format_mem(text, sizeof(text), &in.rm.mem, 4);
	dt_emit(b, &in, no_flags, 0, "stmxcsr %s", text);
}

/*
 * The case starts by loading its x87/SSE state itself (FXRSTOR of an image
 * planted in the data): KVM here ignores MXCSR in KVM_SET_FPU, and now and
 * then the rest of that state too (the guest then starts from whatever it
 * had), so the state set through the accelerator is not trusted.
 */
static void emit_fxrstor_state(struct dt_builder *b)
{
	struct insn in = { .opcode = { 0x0f, 0xae }, .opcode_len = 2, .has_modrm = true,
			   .digit = true, .modrm_reg = 1, .opcode_reg = -1, .rex_w = true };
	uint64_t slot = pick_slot(b, 512, 16);
	char text[64];

	sb_write(b->c->pages, slot, &b->c->state.fpu, 512);
	in.rm.kind = OPND_MEM;
	mem_at(b, &in.rm.mem, slot);
	format_mem(text, sizeof(text), &in.rm.mem, 0);
	dt_emit(b, &in, no_flags, 0, "fxrstor64 %s", text);
}

/*
 * LDMXCSR of value, stored by the snippet just before: a value planted in
 * the data could be overwritten by then, and reserved bits (#GP) go to this
 * KVM's instruction emulator, which answers #UD.
 */
static void emit_ldmxcsr(struct dt_builder *b, uint32_t value)
{
	struct insn in = { .opcode = { 0x0f, 0xae }, .opcode_len = 2, .has_modrm = true,
			   .digit = true, .modrm_reg = 2, .opcode_reg = -1 };
	struct insn mov = { .opcode = { 0xc7 }, .opcode_len = 1, .has_modrm = true, .digit = true,
			    .opcode_reg = -1, .imm = value, .imm_size = 4 };
	uint64_t slot = pick_slot(b, 4, 4);
	char text[64];

	in.rm.kind = mov.rm.kind = OPND_MEM;
	mem_at(b, &in.rm.mem, slot);
	mov.rm.mem = in.rm.mem;
	format_mem(text, sizeof(text), &in.rm.mem, 4);
	dt_emit(b, &mov, no_flags, 0, "mov %s, 0x%x", text, value);
	dt_emit(b, &in, no_flags, 0, "ldmxcsr %s", text);
}

/* --- MMX / SSE / SSE2 --- */

enum opnd_kind { K_NONE, K_XMM, K_MM, K_GPR };

#define S_ALIGN		0x0001	/* an m128 operand must be 16-byte aligned */
#define S_MEM		0x0002	/* memory form only */
#define S_REG		0x0004	/* register form only */
#define S_IMM		0x0008	/* imm8 */
#define S_STORE		0x0010	/* r/m is the destination */
#define S_FP		0x0020	/* may set MXCSR flags */
#define S_FLAGS		0x0040	/* defines ZF, PF, CF and clears OF, SF, AF */
#define S_W		0x0080	/* 32- or 64-bit general register (REX.W), memory likewise */
#define S_WGPR		0x0100	/* writes its general register operand */
#define S_RDI		0x0200	/* MASKMOVQ/MASKMOVDQU: stores at [rdi] */
#define S_DIGIT		0x0400	/* ModRM.reg is an opcode extension */
#define S_NO_MODRM	0x0800

struct simd_form {
	const char *mnemonic;
	uint8_t prefix;		/* mandatory prefix 0x66/0xf3/0xf2 or 0 */
	uint8_t opcode;		/* the byte after 0F */
	uint8_t reg;		/* enum opnd_kind of ModRM.reg (or the digit with S_DIGIT) */
	uint8_t rm;		/* enum opnd_kind of a register r/m */
	uint8_t mem;		/* memory operand bytes; 0: registers only */
	uint16_t attrs;
	uint8_t weight;
};

#define X K_XMM
#define M K_MM
#define G K_GPR

/* Packed integer: MMX (no prefix, m64) and SSE2 (66, aligned m128). */
#define PINT(name, op, w)								\
	{ name, 0, op, M, M, 8, 0, w }, { name, 0x66, op, X, X, 16, S_ALIGN, (w) * 2 }
/* Packed and scalar single and double. */
#define FP4(name, op, extra)								\
	{ name "ps", 0, op, X, X, 16, S_ALIGN | S_FP | (extra), 3 },			\
	{ name "pd", 0x66, op, X, X, 16, S_ALIGN | S_FP | (extra), 3 },			\
	{ name "ss", 0xf3, op, X, X, 4, S_FP | (extra), 3 },				\
	{ name "sd", 0xf2, op, X, X, 8, S_FP | (extra), 3 }
#define SHIFT_IMM(name, op, digit)							\
	{ name, 0, op, digit, M, 0, S_DIGIT | S_IMM | S_REG, 1 },			\
	{ name, 0x66, op, digit, X, 0, S_DIGIT | S_IMM | S_REG, 2 }

static const struct simd_form simd_forms[] = {
	{ "movups", 0, 0x10, X, X, 16, 0, 3 }, { "movupd", 0x66, 0x10, X, X, 16, 0, 2 },
	{ "movss", 0xf3, 0x10, X, X, 4, 0, 3 }, { "movsd", 0xf2, 0x10, X, X, 8, 0, 3 },
	{ "movups", 0, 0x11, X, X, 16, S_STORE, 3 }, { "movupd", 0x66, 0x11, X, X, 16, S_STORE, 2 },
	{ "movss", 0xf3, 0x11, X, X, 4, S_STORE, 3 }, { "movsd", 0xf2, 0x11, X, X, 8, S_STORE, 3 },
	{ "movlps", 0, 0x12, X, X, 8, S_MEM, 1 }, { "movhlps", 0, 0x12, X, X, 0, S_REG, 1 },
	{ "movlpd", 0x66, 0x12, X, X, 8, S_MEM, 1 },
	{ "movlps", 0, 0x13, X, X, 8, S_MEM | S_STORE, 1 }, { "movlpd", 0x66, 0x13, X, X, 8, S_MEM | S_STORE, 1 },
	{ "unpcklps", 0, 0x14, X, X, 16, S_ALIGN, 1 }, { "unpcklpd", 0x66, 0x14, X, X, 16, S_ALIGN, 1 },
	{ "unpckhps", 0, 0x15, X, X, 16, S_ALIGN, 1 }, { "unpckhpd", 0x66, 0x15, X, X, 16, S_ALIGN, 1 },
	{ "movhps", 0, 0x16, X, X, 8, S_MEM, 1 }, { "movlhps", 0, 0x16, X, X, 0, S_REG, 1 },
	{ "movhpd", 0x66, 0x16, X, X, 8, S_MEM, 1 },
	{ "movhps", 0, 0x17, X, X, 8, S_MEM | S_STORE, 1 }, { "movhpd", 0x66, 0x17, X, X, 8, S_MEM | S_STORE, 1 },
	{ "movaps", 0, 0x28, X, X, 16, S_ALIGN, 3 }, { "movapd", 0x66, 0x28, X, X, 16, S_ALIGN, 1 },
	{ "movaps", 0, 0x29, X, X, 16, S_ALIGN | S_STORE, 3 },
	{ "movapd", 0x66, 0x29, X, X, 16, S_ALIGN | S_STORE, 1 },
	{ "cvtpi2ps", 0, 0x2a, X, M, 8, S_FP, 1 }, { "cvtpi2pd", 0x66, 0x2a, X, M, 8, 0, 1 },
	{ "cvtsi2ss", 0xf3, 0x2a, X, G, 4, S_FP | S_W, 2 }, { "cvtsi2sd", 0xf2, 0x2a, X, G, 4, S_FP | S_W, 2 },
	{ "movntps", 0, 0x2b, X, X, 16, S_ALIGN | S_MEM | S_STORE, 1 },
	{ "movntpd", 0x66, 0x2b, X, X, 16, S_ALIGN | S_MEM | S_STORE, 1 },
	{ "cvttps2pi", 0, 0x2c, M, X, 8, S_FP, 1 }, { "cvttpd2pi", 0x66, 0x2c, M, X, 16, S_ALIGN | S_FP, 1 },
	{ "cvttss2si", 0xf3, 0x2c, G, X, 4, S_FP | S_W | S_WGPR, 2 },
	{ "cvttsd2si", 0xf2, 0x2c, G, X, 8, S_FP | S_W | S_WGPR, 2 },
	{ "cvtps2pi", 0, 0x2d, M, X, 8, S_FP, 1 }, { "cvtpd2pi", 0x66, 0x2d, M, X, 16, S_ALIGN | S_FP, 1 },
	{ "cvtss2si", 0xf3, 0x2d, G, X, 4, S_FP | S_W | S_WGPR, 2 },
	{ "cvtsd2si", 0xf2, 0x2d, G, X, 8, S_FP | S_W | S_WGPR, 2 },
	{ "ucomiss", 0, 0x2e, X, X, 4, S_FP | S_FLAGS, 2 }, { "ucomisd", 0x66, 0x2e, X, X, 8, S_FP | S_FLAGS, 2 },
	{ "comiss", 0, 0x2f, X, X, 4, S_FP | S_FLAGS, 2 }, { "comisd", 0x66, 0x2f, X, X, 8, S_FP | S_FLAGS, 2 },
	{ "movmskps", 0, 0x50, G, X, 0, S_REG | S_W | S_WGPR, 1 },
	{ "movmskpd", 0x66, 0x50, G, X, 0, S_REG | S_W | S_WGPR, 1 },
	FP4("sqrt", 0x51, 0),
	{ "rsqrtps", 0, 0x52, X, X, 16, S_ALIGN | S_FP, 1 }, { "rsqrtss", 0xf3, 0x52, X, X, 4, S_FP, 1 },
	{ "rcpps", 0, 0x53, X, X, 16, S_ALIGN | S_FP, 1 }, { "rcpss", 0xf3, 0x53, X, X, 4, S_FP, 1 },
	{ "andps", 0, 0x54, X, X, 16, S_ALIGN, 1 }, { "andpd", 0x66, 0x54, X, X, 16, S_ALIGN, 1 },
	{ "andnps", 0, 0x55, X, X, 16, S_ALIGN, 1 }, { "andnpd", 0x66, 0x55, X, X, 16, S_ALIGN, 1 },
	{ "orps", 0, 0x56, X, X, 16, S_ALIGN, 1 }, { "orpd", 0x66, 0x56, X, X, 16, S_ALIGN, 1 },
	{ "xorps", 0, 0x57, X, X, 16, S_ALIGN, 1 }, { "xorpd", 0x66, 0x57, X, X, 16, S_ALIGN, 1 },
	FP4("add", 0x58, 0), FP4("mul", 0x59, 0),
	{ "cvtps2pd", 0, 0x5a, X, X, 8, S_FP, 2 }, { "cvtpd2ps", 0x66, 0x5a, X, X, 16, S_ALIGN | S_FP, 2 },
	{ "cvtss2sd", 0xf3, 0x5a, X, X, 4, S_FP, 2 }, { "cvtsd2ss", 0xf2, 0x5a, X, X, 8, S_FP, 2 },
	{ "cvtdq2ps", 0, 0x5b, X, X, 16, S_ALIGN | S_FP, 2 },
	{ "cvtps2dq", 0x66, 0x5b, X, X, 16, S_ALIGN | S_FP, 2 },
	{ "cvttps2dq", 0xf3, 0x5b, X, X, 16, S_ALIGN | S_FP, 2 },
	FP4("sub", 0x5c, 0), FP4("min", 0x5d, 0), FP4("div", 0x5e, 0), FP4("max", 0x5f, 0),
	/* The MMX low unpacks read mm/m32. */
	{ "punpcklbw", 0, 0x60, M, M, 4, 0, 1 }, { "punpcklbw", 0x66, 0x60, X, X, 16, S_ALIGN, 2 },
	{ "punpcklwd", 0, 0x61, M, M, 4, 0, 1 }, { "punpcklwd", 0x66, 0x61, X, X, 16, S_ALIGN, 2 },
	{ "punpckldq", 0, 0x62, M, M, 4, 0, 1 }, { "punpckldq", 0x66, 0x62, X, X, 16, S_ALIGN, 2 },
	PINT("packsswb", 0x63, 1), PINT("pcmpgtb", 0x64, 1), PINT("pcmpgtw", 0x65, 1),
	PINT("pcmpgtd", 0x66, 1), PINT("packuswb", 0x67, 1), PINT("punpckhbw", 0x68, 1),
	PINT("punpckhwd", 0x69, 1), PINT("punpckhdq", 0x6a, 1), PINT("packssdw", 0x6b, 1),
	{ "punpcklqdq", 0x66, 0x6c, X, X, 16, S_ALIGN, 1 }, { "punpckhqdq", 0x66, 0x6d, X, X, 16, S_ALIGN, 1 },
	{ "movd", 0, 0x6e, M, G, 4, S_W, 2 }, { "movd", 0x66, 0x6e, X, G, 4, S_W, 3 },
	{ "movq", 0, 0x6f, M, M, 8, 0, 2 }, { "movdqa", 0x66, 0x6f, X, X, 16, S_ALIGN, 3 },
	{ "movdqu", 0xf3, 0x6f, X, X, 16, 0, 4 },
	{ "pshufw", 0, 0x70, M, M, 8, S_IMM, 1 }, { "pshufd", 0x66, 0x70, X, X, 16, S_ALIGN | S_IMM, 2 },
	{ "pshufhw", 0xf3, 0x70, X, X, 16, S_ALIGN | S_IMM, 1 },
	{ "pshuflw", 0xf2, 0x70, X, X, 16, S_ALIGN | S_IMM, 1 },
	SHIFT_IMM("psrlw", 0x71, 2), SHIFT_IMM("psraw", 0x71, 4), SHIFT_IMM("psllw", 0x71, 6),
	SHIFT_IMM("psrld", 0x72, 2), SHIFT_IMM("psrad", 0x72, 4), SHIFT_IMM("pslld", 0x72, 6),
	SHIFT_IMM("psrlq", 0x73, 2), SHIFT_IMM("psllq", 0x73, 6),
	{ "psrldq", 0x66, 0x73, 3, X, 0, S_DIGIT | S_IMM | S_REG, 2 },
	{ "pslldq", 0x66, 0x73, 7, X, 0, S_DIGIT | S_IMM | S_REG, 2 },
	PINT("pcmpeqb", 0x74, 2), PINT("pcmpeqw", 0x75, 1), PINT("pcmpeqd", 0x76, 1),
	{ "emms", 0, 0x77, K_NONE, K_NONE, 0, S_NO_MODRM, 1 },
	{ "movd", 0, 0x7e, M, G, 4, S_W | S_STORE | S_WGPR, 2 },
	{ "movd", 0x66, 0x7e, X, G, 4, S_W | S_STORE | S_WGPR, 3 },
	{ "movq", 0xf3, 0x7e, X, X, 8, 0, 2 },
	{ "movq", 0, 0x7f, M, M, 8, S_STORE, 2 }, { "movdqa", 0x66, 0x7f, X, X, 16, S_ALIGN | S_STORE, 3 },
	{ "movdqu", 0xf3, 0x7f, X, X, 16, S_STORE, 4 },
	FP4("cmp", 0xc2, S_IMM),
	{ "movnti", 0, 0xc3, G, G, 4, S_MEM | S_STORE | S_W, 1 },
	{ "pinsrw", 0, 0xc4, M, G, 2, S_IMM, 1 }, { "pinsrw", 0x66, 0xc4, X, G, 2, S_IMM, 2 },
	{ "pextrw", 0, 0xc5, G, M, 0, S_REG | S_IMM | S_W | S_WGPR, 1 },
	{ "pextrw", 0x66, 0xc5, G, X, 0, S_REG | S_IMM | S_W | S_WGPR, 2 },
	{ "shufps", 0, 0xc6, X, X, 16, S_ALIGN | S_IMM, 2 }, { "shufpd", 0x66, 0xc6, X, X, 16, S_ALIGN | S_IMM, 1 },
	PINT("psrlw", 0xd1, 1), PINT("psrld", 0xd2, 1), PINT("psrlq", 0xd3, 1),
	PINT("paddq", 0xd4, 1), PINT("pmullw", 0xd5, 1),
	{ "movq", 0x66, 0xd6, X, X, 8, S_STORE, 2 },
	{ "movq2dq", 0xf3, 0xd6, X, M, 0, S_REG, 1 }, { "movdq2q", 0xf2, 0xd6, M, X, 0, S_REG, 1 },
	{ "pmovmskb", 0, 0xd7, G, M, 0, S_REG | S_W | S_WGPR, 1 },
	{ "pmovmskb", 0x66, 0xd7, G, X, 0, S_REG | S_W | S_WGPR, 3 },
	PINT("psubusb", 0xd8, 1), PINT("psubusw", 0xd9, 1), PINT("pminub", 0xda, 2),
	PINT("pand", 0xdb, 1), PINT("paddusb", 0xdc, 1), PINT("paddusw", 0xdd, 1),
	PINT("pmaxub", 0xde, 1), PINT("pandn", 0xdf, 1),
	PINT("pavgb", 0xe0, 1), PINT("psraw", 0xe1, 1), PINT("psrad", 0xe2, 1),
	PINT("pavgw", 0xe3, 1), PINT("pmulhuw", 0xe4, 1), PINT("pmulhw", 0xe5, 1),
	{ "cvttpd2dq", 0x66, 0xe6, X, X, 16, S_ALIGN | S_FP, 2 },
	{ "cvtdq2pd", 0xf3, 0xe6, X, X, 8, S_FP, 2 },
	{ "cvtpd2dq", 0xf2, 0xe6, X, X, 16, S_ALIGN | S_FP, 2 },
	{ "movntq", 0, 0xe7, M, M, 8, S_MEM | S_STORE, 1 },
	{ "movntdq", 0x66, 0xe7, X, X, 16, S_ALIGN | S_MEM | S_STORE, 1 },
	PINT("psubsb", 0xe8, 1), PINT("psubsw", 0xe9, 1), PINT("pminsw", 0xea, 1),
	PINT("por", 0xeb, 1), PINT("paddsb", 0xec, 1), PINT("paddsw", 0xed, 1),
	PINT("pmaxsw", 0xee, 1), PINT("pxor", 0xef, 2),
	PINT("psllw", 0xf1, 1), PINT("pslld", 0xf2, 1), PINT("psllq", 0xf3, 1),
	PINT("pmuludq", 0xf4, 1), PINT("pmaddwd", 0xf5, 1), PINT("psadbw", 0xf6, 1),
	{ "maskmovq", 0, 0xf7, M, M, 0, S_REG | S_RDI, 1 },
	{ "maskmovdqu", 0x66, 0xf7, X, X, 0, S_REG | S_RDI, 1 },
	PINT("psubb", 0xf8, 2), PINT("psubw", 0xf9, 1), PINT("psubd", 0xfa, 1),
	PINT("psubq", 0xfb, 1), PINT("paddb", 0xfc, 1), PINT("paddw", 0xfd, 1),
	PINT("paddd", 0xfe, 1),
};

#undef X
#undef M
#undef G

static void format_reg(char *buf, size_t len, unsigned int kind, unsigned int reg, unsigned int gpr_size)
{
	switch (kind) {
	case K_XMM: g_snprintf(buf, len, "xmm%u", reg); break;
	case K_MM: g_snprintf(buf, len, "mm%u", reg & 7); break;
	default: g_strlcpy(buf, reg_name(reg, gpr_size), len); break;
	}
}

/* A pick for imm8 of shuffles, compares and shifts: edge counts often. */
static uint8_t pick_imm8(struct dt_builder *b, const struct simd_form *f)
{
	static const uint8_t counts[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 63, 64, 255 };

	if ((f->attrs & S_DIGIT) && rng_percent(b->rng, 60))
		return counts[rng_below(b->rng, G_N_ELEMENTS(counts))];
	return (uint8_t)rng_next(b->rng);
}

static void gen_sse(struct dt_builder *b, const struct simd_form *f)
{
	struct rng *rng = b->rng;
	struct insn in = { .opcode = { 0x0f, f->opcode }, .opcode_len = 2, .opcode_reg = -1 };
	bool rex_w = (f->attrs & S_W) && rng_percent(rng, 40);
	unsigned int gpr_size = rex_w ? 8 : 4, mem_size = f->mem, writes = 0;
	char reg_text[16] = "", rm_text[80] = "", imm_text[8] = "";
	const char *text_a, *text_b;

	if (f->prefix == 0x66)
		in.opsize = true;
	else
		in.rep = f->prefix;
	in.rex_w = rex_w;
	if ((f->attrs & S_W) && mem_size == 4 && rex_w)
		mem_size = 8;
	if (f->attrs & S_NO_MODRM) {
		dt_emit(b, &in, no_flags, 0, "%s", f->mnemonic);
		return;
	}
	in.has_modrm = true;

	/* The register operand. */
	if (f->attrs & S_DIGIT) {
		in.digit = true;
		in.modrm_reg = f->reg;
	} else {
		unsigned int reg = f->reg == K_MM ? pick_mm(b) :
				   f->reg == K_GPR ? pick_gpr(b, (f->attrs & S_WGPR) && !(f->attrs & S_STORE)) :
				   (unsigned int)rng_below(rng, 16);

		in.modrm_reg = (uint8_t)reg;
		if (f->reg == K_GPR && (f->attrs & S_WGPR) && !(f->attrs & S_STORE))
			writes |= GPR_BIT(reg);
		format_reg(reg_text, sizeof(reg_text), f->reg, reg, gpr_size);
	}

	/* The r/m operand. */
	bool memory = (f->attrs & S_MEM) || (mem_size && !(f->attrs & S_REG) && rng_percent(rng, 45));

	if (memory) {
		/*
		 * Misaligned m128 operands (#GP) are left to the hand-picked
		 * cases: this KVM hands CPL-3 #GP to its instruction emulator,
		 * which answers #UD for SSE instructions.
		 */
		unsigned int align = (f->attrs & S_ALIGN) ? 16 : rng_percent(rng, 50) ? mem_size : 1;
		int tries = 0;

		while (!dt_pick_mem(b, &in.rm.mem, mem_size, true, align) && ++tries < 8)
			;
		if (tries >= 8)
			return;
		in.rm.kind = OPND_MEM;
		format_mem(rm_text, sizeof(rm_text), &in.rm.mem, mem_size);
	} else {
		unsigned int reg = f->rm == K_MM ? pick_mm(b) :
				   f->rm == K_GPR ? pick_gpr(b, (f->attrs & S_WGPR) && (f->attrs & S_STORE)) :
				   (unsigned int)rng_below(rng, 16);

		in.rm = (struct operand){ .kind = OPND_REG, .reg = (uint8_t)reg };
		if (f->rm == K_GPR && (f->attrs & S_WGPR) && (f->attrs & S_STORE))
			writes |= GPR_BIT(reg);
		format_reg(rm_text, sizeof(rm_text), f->rm, reg, gpr_size);
	}
	if (rng_percent(rng, 5))
		in.force_rex = true;
	if (f->attrs & S_IMM) {
		in.imm = pick_imm8(b, f);
		in.imm_size = 1;
		g_snprintf(imm_text, sizeof(imm_text), ", 0x%x", (unsigned int)in.imm);
	}
	if (f->attrs & S_RDI) {
		/* The destination of the masked store: mostly data, sometimes an edge. */
		uint64_t target = rng_percent(rng, 90) ? pick_slot(b, 16, 1) :
				  rng_percent(rng, 50) ? SB_RO_ADDR - rng_below(rng, 16) : SB_NP_ADDR - 8;

		dt_emit_mov_imm(b, X86_RDI, target);
	}
	text_a = (f->attrs & S_STORE) ? rm_text : reg_text;
	text_b = (f->attrs & S_STORE) ? reg_text : rm_text;
	if (f->attrs & S_DIGIT)
		dt_emit(b, &in, no_flags, writes, "%s %s%s", f->mnemonic, rm_text, imm_text);
	else
		dt_emit(b, &in, (f->attrs & S_FLAGS) ? all_flags : no_flags, writes, "%s %s, %s%s",
			f->mnemonic, text_a, text_b, imm_text);
	if ((f->attrs & S_FP) && rng_percent(rng, 30))
		emit_stmxcsr(b);
}

/* MOV m, 0 of 2, 4 or 8 bytes at target (clearing FXSAVE fields that differ by design). */
static void emit_clear(struct dt_builder *b, uint64_t target, unsigned int size)
{
	struct insn in = { .opcode = { 0xc7 }, .opcode_len = 1, .has_modrm = true, .digit = true,
			   .opcode_reg = -1, .opsize = size == 2, .rex_w = size == 8,
			   .imm_size = (uint8_t)(size == 2 ? 2 : 4) };
	char text[64];

	in.rm.kind = OPND_MEM;
	mem_at(b, &in.rm.mem, target);
	format_mem(text, sizeof(text), &in.rm.mem, size);
	dt_emit(b, &in, no_flags, 0, "mov %s, 0", text);
}

/*
 * The pointer fields of an FNSTENV/FNSAVE image (FIP, FCS, FOP, FDP, FDS;
 * Vol. 1 Figures 8-9 to 8-12) are cleared: on this AMD host they do not
 * survive the host saving and restoring the FPU while no exception is
 * pending, so even two runs on the processor disagree.
 */
static void clear_env_pointers(struct dt_builder *b, uint64_t slot, bool format16)
{
	if (format16) {
		emit_clear(b, slot + 6, 8);
		return;
	}
	emit_clear(b, slot + 12, 8);
	emit_clear(b, slot + 20, 8);
}

/* --- x87 --- */

#define ENV	0xfe	/* FLDENV/FNSTENV: 28 bytes, 14 with a 66 prefix */
#define SAVE	0xff	/* FRSTOR/FNSAVE: 108 bytes, 94 with a 66 prefix */

/* Memory operand bytes by opcode D8-DF and ModRM.reg; 0: none (or FISTTP, SSE3). */
static const uint8_t x87_mem_size[8][8] = {
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	{ 4, 0, 4, 4, ENV, 2, ENV, 2 },
	{ 4, 4, 4, 4, 4, 4, 4, 4 },
	{ 4, 0, 4, 4, 0, 10, 0, 10 },
	{ 8, 8, 8, 8, 8, 8, 8, 8 },
	{ 8, 0, 8, 8, SAVE, 0, SAVE, 2 },
	{ 2, 2, 2, 2, 2, 2, 2, 2 },
	{ 2, 0, 2, 2, 10, 8, 10, 8 },
};

static const char *const x87_mem_names[8][8] = {
	{ "fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr" },
	{ "fld", NULL, "fst", "fstp", "fldenv", "fldcw", "fnstenv", "fnstcw" },
	{ "fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr" },
	{ "fild", NULL, "fist", "fistp", NULL, "fld", NULL, "fstp" },
	{ "fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr" },
	{ "fld", NULL, "fst", "fstp", "frstor", NULL, "fnsave", "fnstsw" },
	{ "fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr" },
	{ "fild", NULL, "fist", "fistp", "fbld", "fild", "fbstp", "fistp" },
};

/* Register forms by opcode and ModRM.reg (st(i) in ModRM.rm), Vol. 2A Tables A-8 ... A-22. */
static const char *const x87_reg_names[8][8] = {
	{ "fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr" },
	{ "fld", "fxch", NULL, "fstp1", NULL, NULL, NULL, NULL },
	{ "fcmovb", "fcmove", "fcmovbe", "fcmovu", NULL, NULL, NULL, NULL },
	{ "fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu", NULL, "fucomi", "fcomi", NULL },
	{ "fadd", "fmul", "fcom2", "fcomp3", "fsubr", "fsub", "fdivr", "fdiv" },
	{ "ffree", "fxch4", "fst", "fstp", "fucom", "fucomp", NULL, NULL },
	{ "faddp", "fmulp", "fcomp5", NULL, "fsubrp", "fsubp", "fdivrp", "fdivp" },
	{ "ffreep", "fxch7", "fstp8", "fstp9", NULL, "fucomip", "fcomip", NULL },
};

/* The register forms without an st(i) operand. */
static const struct {
	uint8_t opcode, modrm;
	const char *name;
} x87_singles[] = {
	{ 0xd9, 0xd0, "fnop" }, { 0xd9, 0xe0, "fchs" }, { 0xd9, 0xe1, "fabs" }, { 0xd9, 0xe4, "ftst" },
	{ 0xd9, 0xe5, "fxam" }, { 0xd9, 0xe8, "fld1" }, { 0xd9, 0xe9, "fldl2t" }, { 0xd9, 0xea, "fldl2e" },
	{ 0xd9, 0xeb, "fldpi" }, { 0xd9, 0xec, "fldlg2" }, { 0xd9, 0xed, "fldln2" }, { 0xd9, 0xee, "fldz" },
	{ 0xd9, 0xf0, "f2xm1" }, { 0xd9, 0xf1, "fyl2x" }, { 0xd9, 0xf2, "fptan" }, { 0xd9, 0xf3, "fpatan" },
	{ 0xd9, 0xf4, "fxtract" }, { 0xd9, 0xf5, "fprem1" }, { 0xd9, 0xf6, "fdecstp" },
	{ 0xd9, 0xf7, "fincstp" }, { 0xd9, 0xf8, "fprem" }, { 0xd9, 0xf9, "fyl2xp1" },
	{ 0xd9, 0xfa, "fsqrt" }, { 0xd9, 0xfb, "fsincos" }, { 0xd9, 0xfc, "frndint" },
	{ 0xd9, 0xfd, "fscale" }, { 0xd9, 0xfe, "fsin" }, { 0xd9, 0xff, "fcos" },
	{ 0xda, 0xe9, "fucompp" }, { 0xdb, 0xe0, "fneni" }, { 0xdb, 0xe1, "fndisi" },
	{ 0xdb, 0xe2, "fnclex" }, { 0xdb, 0xe3, "fninit" }, { 0xdb, 0xe4, "fnsetpm" },
	{ 0xde, 0xd9, "fcompp" }, { 0xdf, 0xe0, "fnstsw ax" },
};

static void gen_x87(struct dt_builder *b)
{
	struct rng *rng = b->rng;
	struct insn in = { .opcode_len = 1, .has_modrm = true, .digit = true, .opcode_reg = -1 };
	struct flags_effect flags = no_flags;
	unsigned int row, reg, writes = 0;
	char text[96];

	if (rng_percent(rng, 5))
		in.force_rex = true;
	if (rng_percent(rng, 45)) {
		/* A memory form. */
		unsigned int size;
		int tries = 0;

		do {
			row = (unsigned int)rng_below(rng, 8);
			reg = (unsigned int)rng_below(rng, 8);
			size = x87_mem_size[row][reg];
		} while (!size || ((size == ENV || size == SAVE) && !rng_percent(rng, 15)));
		if (size == ENV || size == SAVE) {
			/* The 16-bit layouts, from a 66 prefix, sometimes. */
			in.opsize = rng_percent(rng, 25);
			size = size == ENV ? (in.opsize ? 14 : 28) : (in.opsize ? 94 : 108);
		}
		in.opcode[0] = (uint8_t)(0xd8 + row);
		in.modrm_reg = (uint8_t)reg;
		in.rm.kind = OPND_MEM;
		if (reg == 6 && (row == 1 || row == 5)) {
			/*
			 * FNSTENV, FNSAVE: to a slot whose pointer fields are then
			 * cleared, placed so that those stores are aligned (#AC).
			 */
			uint64_t slot = pick_slot(b, size + 8, 8) + (in.opsize ? 2 : 4);

			mem_at(b, &in.rm.mem, slot);
			format_mem(text, sizeof(text), &in.rm.mem, 0);
			dt_emit(b, &in, no_flags, 0, "%s%s %s", in.opsize ? "o16 " : "",
				x87_mem_names[row][reg], text);
			clear_env_pointers(b, slot, in.opsize);
			return;
		}
		while (!dt_pick_mem(b, &in.rm.mem, size, true, 1) && ++tries < 8)
			;
		if (tries >= 8)
			return;
		format_mem(text, sizeof(text), &in.rm.mem, size == 10 ? 0 : size);
		dt_emit(b, &in, no_flags, 0, "%s%s %s", in.opsize ? "o16 " : "",
			x87_mem_names[row][reg], text);
		return;
	}
	if (rng_percent(rng, 35)) {
		unsigned int i = (unsigned int)rng_below(rng, G_N_ELEMENTS(x87_singles));

		in.opcode[0] = x87_singles[i].opcode;
		in.modrm_reg = (x87_singles[i].modrm >> 3) & 7;
		in.rm = (struct operand){ .kind = OPND_REG, .reg = x87_singles[i].modrm & 7 };
		if (in.opcode[0] == 0xdf)
			writes = GPR_BIT(X86_RAX);
		dt_emit(b, &in, no_flags, writes, "%s", x87_singles[i].name);
		return;
	}
	do {
		row = (unsigned int)rng_below(rng, 8);
		reg = (unsigned int)rng_below(rng, 8);
	} while (!x87_reg_names[row][reg]);
	unsigned int st = (unsigned int)rng_below(rng, 8);

	in.opcode[0] = (uint8_t)(0xd8 + row);
	in.modrm_reg = (uint8_t)reg;
	/* REX.B is ignored for st(i): numbers 8-15 sometimes. */
	in.rm = (struct operand){ .kind = OPND_REG, .reg = (uint8_t)(st + (rng_percent(rng, 5) ? 8 : 0)) };
	if ((row == 2 || row == 3) && reg < 4)
		define_flags(b, FL_CF | FL_ZF | FL_PF);	/* FCMOVcc reads them */
	if ((row == 3 || row == 7) && (reg == 5 || reg == 6))
		flags = all_flags;	/* F(U)COMI(P): ZF, PF, CF; OF, SF, AF cleared */
	if (row == 4 || row == 6)
		g_snprintf(text, sizeof(text), "%s st(%u), st", x87_reg_names[row][reg], st);
	else if (row == 1 && reg == 0)
		g_snprintf(text, sizeof(text), "fld st(%u)", st);
	else
		g_snprintf(text, sizeof(text), "%s st, st(%u)", x87_reg_names[row][reg], st);
	dt_emit(b, &in, flags, 0, "%s", text);
}

/* --- state instructions --- */

/*
 * FXSAVE to a data slot, then the fields that differ between processors by
 * design are cleared: FOP, FIP and FDP (AMD stores them only while an
 * exception is pending; the software CPU always, as Intel does) and
 * MXCSR_MASK (the host's has AMD's misaligned-SSE bit).
 */
static uint64_t emit_fxsave(struct dt_builder *b)
{
	struct insn in = { .opcode = { 0x0f, 0xae }, .opcode_len = 2, .has_modrm = true,
			   .digit = true, .modrm_reg = 0, .opcode_reg = -1,
			   .rex_w = rng_percent(b->rng, 50) };
	uint64_t slot = pick_slot(b, 512, 16);
	char text[64];

	in.rm.kind = OPND_MEM;
	mem_at(b, &in.rm.mem, slot);
	format_mem(text, sizeof(text), &in.rm.mem, 0);
	dt_emit(b, &in, no_flags, 0, "%s %s", in.rex_w ? "fxsave64" : "fxsave", text);
	emit_clear(b, slot + 6, 2);
	emit_clear(b, slot + 8, 8);
	emit_clear(b, slot + 16, 8);
	emit_clear(b, slot + 28, 4);
	return slot;
}

static void gen_state(struct dt_builder *b)
{
	struct rng *rng = b->rng;
	char text[64];

	switch (rng_below(rng, 5)) {
	case 0:
		emit_ldmxcsr(b, (uint32_t)rng_next(rng) & 0xffff);
		break;
	case 1:
		emit_stmxcsr(b);
		break;
	case 2: {	/* FXSAVE, maybe with an XMM byte changed, and FXRSTOR */
		uint64_t slot = emit_fxsave(b);
		struct insn in = { .opcode = { 0x0f, 0xae }, .opcode_len = 2, .has_modrm = true,
				   .digit = true, .modrm_reg = 1, .opcode_reg = -1,
				   .rex_w = rng_percent(rng, 50) };

		if (rng_percent(rng, 30))
			emit_clear(b, slot + 160 + 16 * rng_below(rng, 16), 4);
		in.rm.kind = OPND_MEM;
		mem_at(b, &in.rm.mem, slot);
		format_mem(text, sizeof(text), &in.rm.mem, 0);
		dt_emit(b, &in, no_flags, 0, "%s %s", in.rex_w ? "fxrstor64" : "fxrstor", text);
		break;
	}
	case 3: {
		static const uint8_t fwait[] = { 0x9b };

		dt_emit_bytes(b, fwait, sizeof(fwait), no_flags, "fwait");
		break;
	}
	default: {	/* FNSAVE then FRSTOR of the same image */
		struct insn in = { .opcode = { 0xdd }, .opcode_len = 1, .has_modrm = true,
				   .digit = true, .modrm_reg = 6, .opcode_reg = -1,
				   .opsize = rng_percent(rng, 25) };
		uint64_t slot = pick_slot(b, 116, 8) + (in.opsize ? 2 : 4);

		in.rm.kind = OPND_MEM;
		mem_at(b, &in.rm.mem, slot);
		format_mem(text, sizeof(text), &in.rm.mem, 0);
		dt_emit(b, &in, no_flags, 0, "%sfnsave %s", in.opsize ? "o16 " : "", text);
		clear_env_pointers(b, slot, in.opsize);
		in.modrm_reg = 4;
		dt_emit(b, &in, no_flags, 0, "%sfrstor %s", in.opsize ? "o16 " : "", text);
		break;
	}
	}
}

void gen_simd_insn(struct dt_builder *b)
{
	unsigned int r = (unsigned int)rng_below(b->rng, 100), total = 0;

	for (unsigned int i = 0; i < G_N_ELEMENTS(simd_forms); i++)
		total += simd_forms[i].weight;
	if (r < 55) {
		unsigned int pick = (unsigned int)rng_below(b->rng, total);

		for (unsigned int i = 0; i < G_N_ELEMENTS(simd_forms); i++) {
			if (pick < simd_forms[i].weight) {
				gen_sse(b, &simd_forms[i]);
				return;
			}
			pick -= simd_forms[i].weight;
		}
	} else if (r < 93) {
		gen_x87(b);
	} else {
		gen_state(b);
	}
}

void gen_simd_epilogue(struct dt_builder *b)
{
	emit_stmxcsr(b);
	emit_fxsave(b);
}
