/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 floating point, opcodes D8-DF (Intel SDM Vol. 1 ch. 8, Vol. 2 "F...").
 *
 * Arithmetic, loads, stores, comparisons and transcendentals run on the
 * host's own x87, which gives bit-exact results, condition codes, tags and
 * exception flags without a soft-float library: one asm block loads the
 * guest state (cpu->fpu is in the FXSAVE layout) with FXRSTOR, runs the
 * very instruction the guest executes from a table of host stubs, saves
 * the result with FXSAVE and puts the host's own x87 back (FNINIT + its
 * control word).  The guest's exception masks are used as they are, so
 * unmasked exceptions get the hardware's unmasked response (no store, no
 * pop, biased exponents); the host never faults because an x87 exception
 * is only *taken* by the next waiting instruction, and the block runs none
 * while one is pending: FXSAVE and FNINIT do not wait, and the guest's
 * old flags are taken out before FXRSTOR and merged back afterwards.
 *
 * The control instructions (FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV,
 * FLDENV, FNSAVE, FRSTOR) only move state and are done here in C.
 *
 * Pointers (Vol. 1 §8.1.8-8.1.9): every non-control instruction records
 * FOP and FIP, and FDP when it has a memory operand, as the processor does
 * with FOP compatibility on (AMD and older Intel parts; newer Intel parts
 * keep FOP only for unmasked exceptions).  Outside 64-bit mode cpu->fpu.fip
 * and .fdp hold the 32-bit FXSAVE layout (offset | selector << 32); in
 * 64-bit mode the 64-bit offset.
 */
#include "fpu.h"

#include "log.h"

/* in->op of a host-executed form. */
#define X87_SIZE	0x0f	/* memory operand bytes: 0 (register form), 2, 4, 8, 10 */
#define X87_STORE	0x10	/* the memory operand is written, not read */
#define X87_SETS_FLAGS	0x20	/* FCOMI, FUCOMI(P), FCOMIP: ZF, PF, CF */
#define X87_READS_FLAGS	0x40	/* FCMOVcc */
#define X87_CONTROL	0x80	/* FLDCW: FOP, FIP and FDP stay */

/*
 * The host stubs: for every register form (D8-DF, ModRM C0-FF) and every
 * memory form (D8-DF, ModRM.reg 0-7, with the operand at [rdi]) the
 * instruction followed by "jmp *%rdx" back into x87_host_run(), 4 bytes
 * each.  Encodings the decoder rejects are never jumped to.
 */
#define STUB_BYTES	4
#define STUB_MEMORY	512	/* index of the first memory-form stub */

__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl vessel_x87_stubs\n"
	".hidden vessel_x87_stubs\n"
	".type vessel_x87_stubs, @function\n"
	"vessel_x87_stubs:\n"
	".set .Lx87_op, 0xd8\n"
	".rept 8\n"
	".set .Lx87_modrm, 0xc0\n"
	".rept 64\n"
	".byte .Lx87_op, .Lx87_modrm, 0xff, 0xe2\n"
	".set .Lx87_modrm, .Lx87_modrm + 1\n"
	".endr\n"
	".set .Lx87_op, .Lx87_op + 1\n"
	".endr\n"
	".set .Lx87_op, 0xd8\n"
	".rept 8\n"
	".set .Lx87_reg, 0\n"
	".rept 8\n"
	".byte .Lx87_op, (.Lx87_reg << 3) | 7, 0xff, 0xe2\n"
	".set .Lx87_reg, .Lx87_reg + 1\n"
	".endr\n"
	".set .Lx87_op, .Lx87_op + 1\n"
	".endr\n"
	".size vessel_x87_stubs, . - vessel_x87_stubs\n"
	".popsection\n");

extern const uint8_t vessel_x87_stubs[] __attribute__((visibility("hidden")));

/*
 * Runs stub `stub` on image with the memory operand at `operand` and the
 * arithmetic flags `flags` (for FCMOVcc); returns the flags afterwards
 * (for FCOMI).  The image's MXCSR is replaced by the host's so FXRSTOR
 * leaves the host's SSE control as it was.
 */
static uint8_t x87_host_run(struct x86_fxsave *image, unsigned int stub, void *operand, uint8_t flags)
{
	const uint8_t *code = vessel_x87_stubs + stub * STUB_BYTES;
	uint64_t ax = (uint64_t)flags << 8;
	uint16_t host_fcw = 0;

	image->mxcsr = __builtin_ia32_stmxcsr();
	__asm__ volatile("fnstcw %[cw]\n\t"
			 "fxrstor %[img]\n\t"
			 "sahf\n\t"
			 "lea 1f(%%rip), %%rdx\n\t"
			 "jmp *%[code]\n"
			 "1:\n\t"
			 "lahf\n\t"
			 "fxsave %[img]\n\t"
			 "fninit\n\t"
			 "fldcw %[cw]"
			 : [img] "+m"(*image), [cw] "+m"(host_fcw), "+a"(ax)
			 : [code] "r"(code), "D"(operand)
			 : "rdx", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
			   "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	return (uint8_t)(ax >> 8);
}

/* The guest state for the host, without the guest's sticky exception flags. */
static void x87_image(const struct tcg_cpu *cpu, struct x86_fxsave *image)
{
	*image = cpu->fpu;
	image->fsw &= (uint16_t)~(FSW_STICKY | FSW_ES | FSW_B);
}

static void x87_commit(struct tcg_cpu *cpu, const struct x86_fxsave *image)
{
	uint16_t sticky = cpu->fpu.fsw & FSW_STICKY;

	cpu->fpu.fcw = image->fcw;
	cpu->fpu.fsw = fsw_with_summary((uint16_t)(image->fsw | sticky), image->fcw);
	cpu->fpu.ftw = image->ftw;
	memcpy(cpu->fpu.st, image->st, sizeof(cpu->fpu.st));
}

/* FIP/FDP value for seg:offset (see the header comment). */
static uint64_t x87_pointer(const struct tcg_cpu *cpu, unsigned int seg, uint64_t offset)
{
	if (cpu->code64)
		return offset;
	return (offset & 0xffffffff) | (uint64_t)cpu->seg[seg].selector << 32;
}

static void x87_set_pointers(struct tcg_cpu *cpu, const struct insn *in, bool has_memory, uint64_t ea)
{
	cpu->fpu.fop = (uint16_t)in->imm;
	cpu->fpu.fip = x87_pointer(cpu, SEG_CS, cpu->rip);
	if (has_memory)
		cpu->fpu.fdp = x87_pointer(cpu, in->seg, ea);
}

/* Bytes no store leaves behind by chance twice in a row (see op_x87). */
#define SENTINEL_A	0xa5
#define SENTINEL_B	0x5a

static bool all_bytes(const uint8_t *p, unsigned int size, uint8_t v)
{
	for (unsigned int i = 0; i < size; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* What alignment checking wants of a memory operand (m80: 8). */
static unsigned int operand_alignment(unsigned int size)
{
	return size == 10 ? 8 : size;
}

/* Every form the host executes. */
static int op_x87(struct tcg_cpu *cpu, const struct insn *in)
{
	struct x86_fxsave image;
	uint8_t operand[16];
	unsigned int size = in->op & X87_SIZE;
	bool store = in->op & X87_STORE;
	uint64_t ea = 0;
	uint8_t flags = 0;

	fpu_check_x87(cpu);
	fpu_check_pending(cpu);
	if (size) {
		ea = insn_ea(cpu, in);
		if (store)
			fpu_check_write(cpu, in->seg, ea, size, operand_alignment(size));
		else
			fpu_read(cpu, in->seg, ea, operand, size, operand_alignment(size));
	}
	if (in->op & X87_READS_FLAGS)
		flags = (uint8_t)cpu_get_eflags(cpu);

	x87_image(cpu, &image);
	if (store)
		memset(operand, SENTINEL_A, size);
	flags = x87_host_run(&image, in->imm2, operand, flags);
	if (store) {
		/*
		 * An unmasked exception suppresses the store (Vol. 1 §4.9.2):
		 * whether the host wrote is seen in the buffer; a result that
		 * happens to equal the sentinel is told apart by a second run.
		 */
		bool written = !all_bytes(operand, size, SENTINEL_A);

		if (!written) {
			x87_image(cpu, &image);
			memset(operand, SENTINEL_B, size);
			x87_host_run(&image, in->imm2, operand, 0);
			written = !all_bytes(operand, size, SENTINEL_B);
		}
		if (written)
			fpu_write(cpu, in->seg, ea, operand, size, operand_alignment(size));
	}
	x87_commit(cpu, &image);
	if (!(in->op & X87_CONTROL))
		x87_set_pointers(cpu, in, size != 0, ea);
	if (in->op & X87_SETS_FLAGS)
		cpu_set_eflags(cpu, flags & (FLAG_ZF | FLAG_PF | FLAG_CF), FLAGS_ARITH);
	return insn_done(cpu, in);
}

/* --- control instructions: no wait, no pointer update --- */

static void x87_init(struct tcg_cpu *cpu)
{
	fpu_set_top(&cpu->fpu, 0);
	cpu->fpu.fcw = X86_FCW_DEFAULT;
	cpu->fpu.fsw = 0;
	cpu->fpu.ftw = 0;	/* all empty */
	cpu->fpu.fop = 0;
	cpu->fpu.fip = 0;
	cpu->fpu.fdp = 0;
}

static int op_fninit(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	x87_init(cpu);
	return insn_done(cpu, in);
}

static int op_fnclex(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	cpu->fpu.fsw &= (uint16_t)~(FSW_STICKY | FSW_ES | FSW_B);
	return insn_done(cpu, in);
}

/* DB E0, E1, E4: the 8087's FNENI/FNDISI and the 287's FNSETPM, no-ops since the 387. */
static int op_fnop_legacy(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	return insn_done(cpu, in);
}

static int op_fnstsw(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), 2, cpu->fpu.fsw);
	else
		reg_write(cpu, 0, 2, cpu->fpu.fsw);	/* DF E0: AX */
	return insn_done(cpu, in);
}

static int op_fnstcw(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	mem_write(cpu, in->seg, insn_ea(cpu, in), 2, cpu->fpu.fcw);
	return insn_done(cpu, in);
}

/* --- FNSTENV / FLDENV / FNSAVE / FRSTOR (Vol. 1 §8.1.10, Figures 8-9 to 8-12) --- */

#define ENV_MAX		28
#define SAVE_MAX	(ENV_MAX + 80)

/* The 2-bit tag of each physical register, from the abridged tags and the values (Vol. 1 §8.1.7). */
static uint16_t x87_full_tags(const struct x86_fxsave *fx)
{
	unsigned int top = (fx->fsw & FSW_TOP) >> FSW_TOP_SHIFT;
	uint16_t tags = 0;

	for (unsigned int r = 0; r < 8; r++) {
		const uint8_t *v = fx->st[(r - top) & 7];
		uint16_t exponent = (uint16_t)((v[8] | v[9] << 8) & 0x7fff);
		uint64_t significand;
		unsigned int tag;

		memcpy(&significand, v, 8);
		if (!(fx->ftw & (1u << r)))
			tag = 3;	/* empty */
		else if (exponent == 0x7fff)
			tag = 2;	/* NaN, infinity */
		else if (exponent == 0)
			tag = significand ? 2 : 1;	/* denormal : zero */
		else
			tag = (significand >> 63) ? 0 : 2;	/* valid : unnormal */
		tags |= (uint16_t)(tag << (2 * r));
	}
	return tags;
}

static uint8_t x87_abridged_tags(uint16_t tags)
{
	uint8_t ftw = 0;

	for (unsigned int r = 0; r < 8; r++)
		if (((tags >> (2 * r)) & 3) != 3)
			ftw |= (uint8_t)(1u << r);
	return ftw;
}

static bool env_real_format(const struct tcg_cpu *cpu)
{
	return !cpu->protected_mode || (cpu->eflags & FLAG_VM);
}

/* Selector of a pointer (see the header comment: current CS/DS in 64-bit mode). */
static uint16_t pointer_selector(const struct tcg_cpu *cpu, uint64_t pointer, unsigned int seg)
{
	return cpu->code64 ? cpu->seg[seg].selector : (uint16_t)(pointer >> 32);
}

/* Real-mode formats store 20/32-bit linear addresses: selector * 16 + offset. */
static uint32_t pointer_real_linear(uint64_t pointer)
{
	return (uint32_t)(((pointer >> 32) & 0xffff) * 16 + (uint32_t)pointer);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Builds the environment image; returns its size (14 or 28 bytes). */
static unsigned int env_store(const struct tcg_cpu *cpu, const struct insn *in, uint8_t *env)
{
	const struct x86_fxsave *fx = &cpu->fpu;
	uint16_t tags = x87_full_tags(fx), fop = fx->fop & 0x7ff;
	uint16_t fcs = pointer_selector(cpu, fx->fip, SEG_CS);
	uint16_t fds = pointer_selector(cpu, fx->fdp, SEG_DS);
	uint32_t ip = (uint32_t)fx->fip, dp = (uint32_t)fx->fdp;
	uint32_t lip = pointer_real_linear(fx->fip), ldp = pointer_real_linear(fx->fdp);
	bool real = env_real_format(cpu);

	if (in->size == 2) {
		put16(env + 0, fx->fcw);
		put16(env + 2, fx->fsw);
		put16(env + 4, tags);
		if (real) {
			put16(env + 6, (uint16_t)lip);
			put16(env + 8, (uint16_t)(((lip >> 16) & 0xf) << 12 | fop));
			put16(env + 10, (uint16_t)ldp);
			put16(env + 12, (uint16_t)(((ldp >> 16) & 0xf) << 12));
		} else {
			put16(env + 6, (uint16_t)ip);
			put16(env + 8, fcs);
			put16(env + 10, (uint16_t)dp);
			put16(env + 12, fds);
		}
		return 14;
	}
	/* The reserved upper halves read as ones (measured). */
	put32(env + 0, 0xffff0000u | fx->fcw);
	put32(env + 4, 0xffff0000u | fx->fsw);
	put32(env + 8, 0xffff0000u | tags);
	if (real) {
		put32(env + 12, 0xffff0000u | (lip & 0xffff));
		put32(env + 16, (lip >> 16) << 12 | fop);
		put32(env + 20, 0xffff0000u | (ldp & 0xffff));
		put32(env + 24, (ldp >> 16) << 12);
	} else {
		put32(env + 12, ip);
		put32(env + 16, (uint32_t)fop << 16 | fcs);
		put32(env + 20, dp);
		put32(env + 24, 0xffff0000u | fds);
	}
	return 28;
}

static uint64_t env_pointer(const struct tcg_cpu *cpu, uint32_t offset, uint16_t selector)
{
	return cpu->code64 ? offset : (uint64_t)offset | (uint64_t)selector << 32;
}

/* Loads an environment image into fx (everything but the registers). */
static unsigned int env_load(const struct tcg_cpu *cpu, const struct insn *in, const uint8_t *env,
			     struct x86_fxsave *fx)
{
	bool real = env_real_format(cpu);
	unsigned int size;
	uint16_t tags;

	if (in->size == 2) {
		fx->fcw = get16(env + 0);
		fx->fsw = get16(env + 2);
		tags = get16(env + 4);
		if (real) {
			fx->fip = get16(env + 6) | (uint64_t)(get16(env + 8) >> 12) << 16;
			fx->fop = get16(env + 8) & 0x7ff;
			fx->fdp = get16(env + 10) | (uint64_t)(get16(env + 12) >> 12) << 16;
		} else {
			/* The 16-bit protected-mode format has no FOP. */
			fx->fip = env_pointer(cpu, get16(env + 6), get16(env + 8));
			fx->fdp = env_pointer(cpu, get16(env + 10), get16(env + 12));
		}
		size = 14;
	} else {
		fx->fcw = get16(env + 0);
		fx->fsw = get16(env + 4);
		tags = get16(env + 8);
		if (real) {
			fx->fip = (get32(env + 12) & 0xffff) | (uint64_t)((get32(env + 16) >> 12) & 0xffff) << 16;
			fx->fop = get32(env + 16) & 0x7ff;
			fx->fdp = (get32(env + 20) & 0xffff) | (uint64_t)((get32(env + 24) >> 12) & 0xffff) << 16;
		} else {
			fx->fip = env_pointer(cpu, get32(env + 12), get16(env + 16));
			fx->fop = (get32(env + 16) >> 16) & 0x7ff;
			fx->fdp = env_pointer(cpu, get32(env + 20), get16(env + 24));
		}
		size = 28;
	}
	/* As FLDCW and FXRSTOR: FCW bit 6 reads 1, ES/B follow the unmasked flags. */
	fx->fcw = fcw_normalize(fx->fcw);
	fx->fsw = fsw_with_summary(fx->fsw, fx->fcw);
	fx->ftw = x87_abridged_tags(tags);
	return size;
}

static unsigned int env_size(const struct insn *in)
{
	return in->size == 2 ? 14 : 28;
}

static unsigned int env_alignment(const struct insn *in)
{
	return in->size == 2 ? 2 : 4;
}

static int op_fnstenv(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t env[ENV_MAX];
	unsigned int size;

	fpu_check_x87(cpu);
	size = env_store(cpu, in, env);
	fpu_write(cpu, in->seg, insn_ea(cpu, in), env, size, env_alignment(in));
	/* Then all exceptions are masked (Vol. 2A "FSTENV"). */
	cpu->fpu.fcw |= FCW_MASKS;
	cpu->fpu.fsw = fsw_with_summary(cpu->fpu.fsw, cpu->fpu.fcw);
	return insn_done(cpu, in);
}

static int op_fldenv(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t env[ENV_MAX];
	struct x86_fxsave fx;
	uint16_t new_fsw;

	fpu_check_x87(cpu);
	fpu_check_pending(cpu);
	fpu_read(cpu, in->seg, insn_ea(cpu, in), env, env_size(in), env_alignment(in));
	fx = cpu->fpu;
	env_load(cpu, in, env, &fx);
	/* A new TOP, the same physical registers. */
	new_fsw = fx.fsw;
	fx.fsw = cpu->fpu.fsw;
	fpu_set_top(&fx, (new_fsw & FSW_TOP) >> FSW_TOP_SHIFT);
	fx.fsw = new_fsw;
	cpu->fpu = fx;
	return insn_done(cpu, in);
}

static int op_fnsave(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t image[SAVE_MAX];
	unsigned int size;

	fpu_check_x87(cpu);
	size = env_store(cpu, in, image);
	for (unsigned int i = 0; i < 8; i++)
		memcpy(image + size + 10 * i, cpu->fpu.st[i], 10);	/* ST0..ST7 in stack order */
	fpu_write(cpu, in->seg, insn_ea(cpu, in), image, size + 80, env_alignment(in));
	x87_init(cpu);
	return insn_done(cpu, in);
}

static int op_frstor(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t image[SAVE_MAX];
	struct x86_fxsave fx;
	unsigned int size = env_size(in);

	fpu_check_x87(cpu);
	fpu_check_pending(cpu);
	fpu_read(cpu, in->seg, insn_ea(cpu, in), image, size + 80, env_alignment(in));
	fx = cpu->fpu;
	env_load(cpu, in, image, &fx);
	for (unsigned int i = 0; i < 8; i++) {
		memcpy(fx.st[i], image + size + 10 * i, 10);
		memset(fx.st[i] + 10, 0, 6);
	}
	cpu->fpu = fx;
	return insn_done(cpu, in);
}

/* --- decoding --- */

struct x87_form {
	insn_fn fn;
	uint8_t op;
};

#define HOST(op)	{ op_x87, (op) }
#define LOAD(n)		HOST(n)
#define STORE(n)	HOST((n) | X87_STORE)
#define INVALID		{ NULL, 0 }

/* Memory forms by opcode and ModRM.reg (Vol. 2A Tables ... A-21). */
static const struct x87_form memory_forms[8][8] = {
	/* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
	{ LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4) },
	/* D9: FLD m32fp, -, FST, FSTP m32fp, FLDENV, FLDCW, FNSTENV, FNSTCW */
	{ LOAD(4), INVALID, STORE(4), STORE(4), { op_fldenv, 0 }, HOST(2 | X87_CONTROL),
	  { op_fnstenv, 0 }, { op_fnstcw, 0 } },
	/* DA: FIADD ... FIDIVR m32int */
	{ LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4), LOAD(4) },
	/* DB: FILD m32int, FISTTP (SSE3: not advertised), FIST, FISTP m32int, -, FLD m80fp, -, FSTP m80fp */
	{ LOAD(4), INVALID, STORE(4), STORE(4), INVALID, LOAD(10), INVALID, STORE(10) },
	/* DC: FADD ... FDIVR m64fp */
	{ LOAD(8), LOAD(8), LOAD(8), LOAD(8), LOAD(8), LOAD(8), LOAD(8), LOAD(8) },
	/* DD: FLD m64fp, FISTTP (SSE3), FST, FSTP m64fp, FRSTOR, -, FNSAVE, FNSTSW m16 */
	{ LOAD(8), INVALID, STORE(8), STORE(8), { op_frstor, 0 }, INVALID, { op_fnsave, 0 },
	  { op_fnstsw, 0 } },
	/* DE: FIADD ... FIDIVR m16int */
	{ LOAD(2), LOAD(2), LOAD(2), LOAD(2), LOAD(2), LOAD(2), LOAD(2), LOAD(2) },
	/* DF: FILD m16int, FISTTP (SSE3), FIST, FISTP m16int, FBLD, FILD m64int, FBSTP, FISTP m64int */
	{ LOAD(2), INVALID, STORE(2), STORE(2), LOAD(10), LOAD(8), STORE(10), STORE(8) },
};

/*
 * Register forms that exist (Vol. 2A Tables A-8 ... A-22, checked on
 * hardware): the documented ones plus the aliases every processor since
 * the 387 decodes (FSTP1 D9 D8+i, FCOM2 DC D0+i, FCOMP3 DC D8+i, FXCH4
 * DD C8+i, FCOMP5 DE D0+i, FFREEP DF C0+i, FXCH7 DF C8+i, FSTP8/9 DF D0-DF).
 */
static bool register_form_exists(uint8_t opcode, uint8_t modrm)
{
	switch (opcode) {
	case 0xd9:
		return modrm <= 0xd0 || (modrm >= 0xd8 && modrm <= 0xe1) || modrm == 0xe4 ||
		       modrm == 0xe5 || (modrm >= 0xe8 && modrm <= 0xee) || modrm >= 0xf0;
	case 0xda:
		return modrm < 0xe0 || modrm == 0xe9;	/* FCMOVcc, FUCOMPP */
	case 0xdb:
		return modrm <= 0xe4 || (modrm >= 0xe8 && modrm < 0xf8);
	case 0xdd:
		return modrm < 0xf0;
	case 0xde:
		return modrm < 0xd8 || modrm == 0xd9 || modrm >= 0xe0;
	case 0xdf:
		return modrm <= 0xe0 || (modrm >= 0xe8 && modrm < 0xf8);
	default:	/* D8, DC: all 64 */
		return true;
	}
}

insn_fn x87_decode(struct insn *in, uint8_t opcode, uint8_t modrm)
{
	unsigned int row = opcode - 0xd8u, reg = (modrm >> 3) & 7;

	/* FOP: the low three opcode bits and the whole ModRM byte (Vol. 1 §8.1.9). */
	in->imm = (uint64_t)(row << 8 | modrm);
	if ((modrm >> 6) != 3) {
		const struct x87_form *form = &memory_forms[row][reg];

		in->op = form->op;
		in->imm2 = (uint16_t)(STUB_MEMORY + row * 8 + reg);
		return form->fn;
	}
	if (!register_form_exists(opcode, modrm))
		return NULL;
	in->op = 0;
	in->imm2 = (uint16_t)(row * 64 + (modrm - 0xc0u));
	switch (opcode << 8 | modrm) {
	case 0xdbe0: case 0xdbe1: case 0xdbe4:
		return op_fnop_legacy;
	case 0xdbe2:
		return op_fnclex;
	case 0xdbe3:
		return op_fninit;
	case 0xdfe0:
		return op_fnstsw;
	}
	if ((opcode == 0xda || opcode == 0xdb) && modrm < 0xe0)
		in->op = X87_READS_FLAGS;	/* FCMOVcc */
	else if ((opcode == 0xdb || opcode == 0xdf) && modrm >= 0xe8)
		in->op = X87_SETS_FLAGS;	/* F(U)COMI(P) */
	return op_x87;
}

/* D8-DF are routed through x87_decode(); the table entry itself never runs. */
int op_fpu(struct tcg_cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_raise_ud(cpu);
}
