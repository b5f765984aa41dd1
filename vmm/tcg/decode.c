/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 instruction decoder (Intel SDM Vol. 2 ch. 2 and Appendix A):
 * legacy prefixes, REX, one-, two- and three-byte opcodes, ModRM/SIB with
 * 16-, 32- and 64-bit addressing, immediates.  It turns guest bytes into a
 * struct insn: the handler and its operands, so execution never decodes.
 */
#include "decode.h"

#include "fpu.h"
#include "ops.h"

/* Opcode table flags. */
#define F_MODRM		0x0001	/* a ModRM byte follows */
#define F_BYTE		0x0002	/* 8-bit operands */
#define F_IB		0x0004	/* imm8, sign-extended */
#define F_IBU		0x0008	/* imm8, zero-extended (ports, vectors, counts) */
#define F_IW		0x0010	/* imm16 */
#define F_IZ		0x0020	/* imm16/32 by operand size (32 sign-extended for 64) */
#define F_IV		0x0040	/* imm16/32/64 by operand size (MOV r, imm) */
#define F_D64		0x0080	/* 64-bit operand size by default in 64-bit mode */
#define F_F64		0x0100	/* always 64-bit in 64-bit mode (near branches) */
#define F_I64		0x0200	/* invalid in 64-bit mode */
#define F_STOP		0x0400	/* ends the block: branches, mode changes, I/O */
#define F_MOFFS		0x0800	/* address-size immediate offset */
#define F_FAR		0x1000	/* ptr16:16/32 immediate */
#define F_LOCKABLE		0x2000	/* LOCK allowed (with a memory destination) */
#define F_GROUP		0x4000	/* the handler depends on ModRM.reg */
#define F_O64		0x8000	/* valid only in 64-bit mode */

struct opcode {
	insn_fn fn;
	uint16_t flags;
	uint8_t op;
};

/* ALU rows 00-3F: op = row, forms Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  eAX,Iz */
#define ALU_ROW(base, n)							\
	[base + 0] = { op_alu_rm_reg, F_MODRM | F_BYTE | F_LOCKABLE, n },		\
	[base + 1] = { op_alu_rm_reg, F_MODRM | F_LOCKABLE, n },			\
	[base + 2] = { op_alu_reg_rm, F_MODRM | F_BYTE, n },			\
	[base + 3] = { op_alu_reg_rm, F_MODRM, n },				\
	[base + 4] = { op_alu_rm_imm, F_BYTE | F_IB, n },			\
	[base + 5] = { op_alu_rm_imm, F_IZ, n }

#define STOP F_STOP

static const struct opcode one_byte[256] = {
	ALU_ROW(0x00, 0), ALU_ROW(0x08, 1), ALU_ROW(0x10, 2), ALU_ROW(0x18, 3),
	ALU_ROW(0x20, 4), ALU_ROW(0x28, 5), ALU_ROW(0x30, 6), ALU_ROW(0x38, 7),
	[0x27] = { op_daa_das, F_I64, 0 }, [0x2f] = { op_daa_das, F_I64, 1 },
	[0x37] = { op_aaa_aas, F_I64, 0 }, [0x3f] = { op_aaa_aas, F_I64, 1 },
	[0x62] = { op_bound, F_MODRM | F_I64 },
	[0xd4] = { op_aam, F_IBU | F_I64 }, [0xd5] = { op_aad, F_IBU | F_I64 },
	[0xd6] = { op_salc, F_I64 },
	[0x06] = { op_push_seg, F_I64, SEG_ES }, [0x07] = { op_pop_seg, F_I64 | STOP, SEG_ES },
	[0x0e] = { op_push_seg, F_I64, SEG_CS },
	[0x16] = { op_push_seg, F_I64, SEG_SS }, [0x17] = { op_pop_seg, F_I64 | STOP, SEG_SS },
	[0x1e] = { op_push_seg, F_I64, SEG_DS }, [0x1f] = { op_pop_seg, F_I64 | STOP, SEG_DS },
	[0x40 ... 0x47] = { op_inc_dec, F_I64, 0 }, [0x48 ... 0x4f] = { op_inc_dec, F_I64, 1 },
	[0x50 ... 0x57] = { op_push_reg, F_D64 }, [0x58 ... 0x5f] = { op_pop_reg, F_D64 },
	[0x60] = { op_pusha, F_I64 }, [0x61] = { op_popa, F_I64 },
	[0x63] = { op_movsxd, F_MODRM | F_O64 },
	[0x68] = { op_push_imm, F_IZ | F_D64 }, [0x69] = { op_imul_reg_rm_imm, F_MODRM | F_IZ },
	[0x6a] = { op_push_imm, F_IB | F_D64 }, [0x6b] = { op_imul_reg_rm_imm, F_MODRM | F_IB },
	[0x6c] = { op_ins, F_BYTE | STOP }, [0x6d] = { op_ins, STOP },
	[0x6e] = { op_outs, F_BYTE | STOP }, [0x6f] = { op_outs, STOP },
	[0x70 ... 0x7f] = { op_jcc, F_IB | F_F64 | STOP },
	[0x80] = { op_alu_rm_imm, F_MODRM | F_BYTE | F_IB | F_LOCKABLE | F_GROUP },
	[0x81] = { op_alu_rm_imm, F_MODRM | F_IZ | F_LOCKABLE | F_GROUP },
	[0x82] = { op_alu_rm_imm, F_MODRM | F_BYTE | F_IB | F_LOCKABLE | F_GROUP | F_I64 },
	[0x83] = { op_alu_rm_imm, F_MODRM | F_IB | F_LOCKABLE | F_GROUP },
	[0x84] = { op_test_rm_reg, F_MODRM | F_BYTE }, [0x85] = { op_test_rm_reg, F_MODRM },
	[0x86] = { op_xchg, F_MODRM | F_BYTE | F_LOCKABLE }, [0x87] = { op_xchg, F_MODRM | F_LOCKABLE },
	[0x88] = { op_mov_rm_reg, F_MODRM | F_BYTE }, [0x89] = { op_mov_rm_reg, F_MODRM },
	[0x8a] = { op_mov_reg_rm, F_MODRM | F_BYTE }, [0x8b] = { op_mov_reg_rm, F_MODRM },
	[0x8c] = { op_mov_rm_sreg, F_MODRM }, [0x8d] = { op_lea, F_MODRM },
	[0x8e] = { op_mov_sreg_rm, F_MODRM | STOP }, [0x8f] = { op_pop_rm, F_MODRM | F_D64 | F_GROUP },
	[0x90 ... 0x97] = { op_xchg_ax, 0 },
	[0x98] = { op_cbw, 0 }, [0x99] = { op_cwd, 0 },
	[0x9a] = { op_call_far, F_FAR | F_I64 | STOP }, [0x9b] = { op_fwait, 0 },
	[0x9c] = { op_pushf, F_D64 }, [0x9d] = { op_popf, F_D64 | STOP },
	[0x9e] = { op_sahf, 0 }, [0x9f] = { op_lahf, 0 },
	[0xa0] = { op_mov_moffs_load, F_BYTE | F_MOFFS }, [0xa1] = { op_mov_moffs_load, F_MOFFS },
	[0xa2] = { op_mov_moffs_store, F_BYTE | F_MOFFS }, [0xa3] = { op_mov_moffs_store, F_MOFFS },
	[0xa4] = { op_movs, F_BYTE }, [0xa5] = { op_movs, 0 },
	[0xa6] = { op_cmps, F_BYTE }, [0xa7] = { op_cmps, 0 },
	[0xa8] = { op_test_rm_imm, F_BYTE | F_IB }, [0xa9] = { op_test_rm_imm, F_IZ },
	[0xaa] = { op_stos, F_BYTE }, [0xab] = { op_stos, 0 },
	[0xac] = { op_lods, F_BYTE }, [0xad] = { op_lods, 0 },
	[0xae] = { op_scas, F_BYTE }, [0xaf] = { op_scas, 0 },
	[0xb0 ... 0xb7] = { op_mov_reg_imm, F_BYTE | F_IB },
	[0xb8 ... 0xbf] = { op_mov_reg_imm, F_IV },
	[0xc0] = { op_shift, F_MODRM | F_BYTE | F_IBU | F_GROUP },
	[0xc1] = { op_shift, F_MODRM | F_IBU | F_GROUP },
	[0xc2] = { op_ret, F_IW | F_F64 | STOP }, [0xc3] = { op_ret, F_F64 | STOP },
	[0xc4] = { op_lseg_far, F_MODRM | F_I64 | STOP, SEG_ES },
	[0xc5] = { op_lseg_far, F_MODRM | F_I64 | STOP, SEG_DS },
	[0xc6] = { op_mov_rm_imm, F_MODRM | F_BYTE | F_IB | F_GROUP },
	[0xc7] = { op_mov_rm_imm, F_MODRM | F_IZ | F_GROUP },
	[0xc8] = { op_enter, F_IW | F_D64 }, [0xc9] = { op_leave, F_D64 },
	[0xca] = { op_retf, F_IW | STOP }, [0xcb] = { op_retf, STOP },
	[0xcc] = { op_int3, STOP }, [0xcd] = { op_int, F_IBU | STOP },
	[0xce] = { op_into, F_I64 | STOP }, [0xcf] = { op_iret, STOP },
	[0xd0] = { op_shift, F_MODRM | F_BYTE | F_GROUP }, [0xd1] = { op_shift, F_MODRM | F_GROUP },
	[0xd2] = { op_shift, F_MODRM | F_BYTE | F_GROUP }, [0xd3] = { op_shift, F_MODRM | F_GROUP },
	[0xd7] = { op_xlat, 0 },
	[0xd8 ... 0xdf] = { op_fpu, F_MODRM },
	[0xe0] = { op_loop, F_IB | F_F64 | STOP, 0 }, [0xe1] = { op_loop, F_IB | F_F64 | STOP, 1 },
	[0xe2] = { op_loop, F_IB | F_F64 | STOP, 2 }, [0xe3] = { op_loop, F_IB | F_F64 | STOP, 3 },
	[0xe4] = { op_in, F_BYTE | F_IBU | STOP, 0 }, [0xe5] = { op_in, F_IBU | STOP, 0 },
	[0xe6] = { op_out, F_BYTE | F_IBU | STOP, 0 }, [0xe7] = { op_out, F_IBU | STOP, 0 },
	[0xe8] = { op_call_rel, F_IZ | F_F64 | STOP }, [0xe9] = { op_jmp_rel, F_IZ | F_F64 | STOP },
	[0xea] = { op_jmp_far, F_FAR | F_I64 | STOP }, [0xeb] = { op_jmp_rel, F_IB | F_F64 | STOP },
	[0xec] = { op_in, F_BYTE | STOP, 1 }, [0xed] = { op_in, STOP, 1 },
	[0xee] = { op_out, F_BYTE | STOP, 1 }, [0xef] = { op_out, STOP, 1 },
	[0xf1] = { op_int1, STOP }, [0xf4] = { op_hlt, STOP }, [0xf5] = { op_flag_op, 0, 2 },
	[0xf6] = { NULL, F_MODRM | F_BYTE | F_GROUP | F_LOCKABLE },
	[0xf7] = { NULL, F_MODRM | F_GROUP | F_LOCKABLE },
	[0xf8] = { op_flag_op, 0, 0 }, [0xf9] = { op_flag_op, 0, 1 },
	[0xfa] = { op_cli, 0 }, [0xfb] = { op_sti, STOP },
	[0xfc] = { op_flag_op, 0, 3 }, [0xfd] = { op_flag_op, 0, 4 },
	[0xfe] = { NULL, F_MODRM | F_BYTE | F_GROUP | F_LOCKABLE },
	[0xff] = { NULL, F_MODRM | F_GROUP | F_LOCKABLE },
};

/* MMX/SSE/SSE2 two-byte opcodes: op_sse marks them for sse_decode(). */
#define SSE { op_sse, F_MODRM }
#define SSE_IB { op_sse, F_MODRM | F_IBU }

static const struct opcode two_byte[256] = {
	[0x00] = { NULL, F_MODRM | F_GROUP }, [0x01] = { NULL, F_MODRM | F_GROUP },
	[0x02] = { op_lar_lsl, F_MODRM, 0 }, [0x03] = { op_lar_lsl, F_MODRM, 1 },
	[0x05] = { op_syscall, STOP }, [0x06] = { op_clts, 0 }, [0x07] = { op_sysret, STOP },
	[0x08] = { op_wbinvd, 0 }, [0x09] = { op_wbinvd, 0 },
	[0x0b] = { op_ud, STOP }, [0x0d] = { op_nop, F_MODRM },
	[0x10 ... 0x17] = SSE,
	[0x18 ... 0x1f] = { op_nop, F_MODRM },	/* prefetch hints and multi-byte NOP */
	[0x20] = { op_mov_from_cr, F_MODRM }, [0x21] = { op_mov_from_dr, F_MODRM },
	[0x22] = { op_mov_to_cr, F_MODRM | STOP }, [0x23] = { op_mov_to_dr, F_MODRM },
	[0x28 ... 0x2f] = SSE,
	[0x30] = { op_wrmsr, STOP }, [0x31] = { op_rdtsc, 0 }, [0x32] = { op_rdmsr, 0 },
	[0x33] = { op_rdpmc, 0 }, [0x34] = { op_sysenter, STOP }, [0x35] = { op_sysexit, STOP },
	[0x40 ... 0x4f] = { op_cmovcc, F_MODRM },
	[0x50 ... 0x6f] = SSE,
	[0x70 ... 0x73] = SSE_IB,
	[0x74 ... 0x76] = SSE, [0x77] = { op_sse, 0 },	/* EMMS */
	[0x7e ... 0x7f] = SSE,
	[0x80 ... 0x8f] = { op_jcc, F_IZ | F_F64 | STOP },
	[0x90 ... 0x9f] = { op_setcc, F_MODRM | F_BYTE },
	[0xa0] = { op_push_seg, F_D64, SEG_FS }, [0xa1] = { op_pop_seg, F_D64 | STOP, SEG_FS },
	[0xa2] = { op_cpuid, 0 }, [0xa3] = { op_bt, F_MODRM, 0 },
	[0xa4] = { op_shld, F_MODRM | F_IBU }, [0xa5] = { op_shld, F_MODRM },
	[0xa8] = { op_push_seg, F_D64, SEG_GS }, [0xa9] = { op_pop_seg, F_D64 | STOP, SEG_GS },
	[0xab] = { op_bt, F_MODRM | F_LOCKABLE, 1 },
	[0xac] = { op_shrd, F_MODRM | F_IBU }, [0xad] = { op_shrd, F_MODRM },
	[0xae] = { NULL, F_MODRM | F_GROUP }, [0xaf] = { op_imul_reg_rm, F_MODRM },
	[0xb0] = { op_cmpxchg, F_MODRM | F_BYTE | F_LOCKABLE }, [0xb1] = { op_cmpxchg, F_MODRM | F_LOCKABLE },
	[0xb2] = { op_lseg_far, F_MODRM | STOP, SEG_SS }, [0xb3] = { op_bt, F_MODRM | F_LOCKABLE, 2 },
	[0xb4] = { op_lseg_far, F_MODRM | STOP, SEG_FS }, [0xb5] = { op_lseg_far, F_MODRM | STOP, SEG_GS },
	[0xb6] = { op_movzx, F_MODRM, 1 }, [0xb7] = { op_movzx, F_MODRM, 2 },
	[0xb8] = { op_popcnt, F_MODRM }, [0xb9] = { op_ud, F_MODRM | STOP },
	[0xba] = { op_bt_imm, F_MODRM | F_IBU | F_GROUP | F_LOCKABLE }, [0xbb] = { op_bt, F_MODRM | F_LOCKABLE, 3 },
	[0xbc] = { op_bsf, F_MODRM }, [0xbd] = { op_bsr, F_MODRM },
	[0xbe] = { op_movsx, F_MODRM, 1 }, [0xbf] = { op_movsx, F_MODRM, 2 },
	[0xc0] = { op_xadd, F_MODRM | F_BYTE | F_LOCKABLE }, [0xc1] = { op_xadd, F_MODRM | F_LOCKABLE },
	[0xc2] = SSE_IB, [0xc3] = SSE, [0xc4 ... 0xc6] = SSE_IB,
	[0xc7] = { NULL, F_MODRM | F_GROUP | F_LOCKABLE },
	[0xc8 ... 0xcf] = { op_bswap, 0 },
	[0xd0 ... 0xfe] = SSE,
	[0xff] = { op_ud, F_MODRM | STOP },
};

struct prefixes {
	uint8_t opsize, asize, rep, lock, seg, rex;
};

/* Reads the next code byte (raises #PF/#GP like an instruction fetch). */
static uint8_t fetch_byte(struct fetch *f)
{
	uint64_t linear = f->linear + f->len;
	uint64_t page;
	unsigned int slot;

	if (f->len - f->insn_start >= 15)
		cpu_raise_gp0(f->cpu);	/* instructions are at most 15 bytes */
	f->len++;
	if (!f->cpu->long_mode)
		linear &= 0xffffffff;
	page = linear & ~0xfffULL;
	if (f->valid[0] && page == f->page[0]) {
		slot = 0;
	} else if (f->valid[1] && page == f->page[1]) {
		slot = 1;
	} else {
		slot = f->valid[0] ? 1 : 0;
		f->page[slot] = page;
		f->phys[slot] = mmu_translate_code(f->cpu, page) & ~0xfffULL;
		f->host[slot] = guest_memory_ptr(f->cpu->mem, f->phys[slot], 4096);
		f->valid[slot] = true;
		if (slot == 1)
			f->crossed = true;
	}
	if (f->host[slot])
		return f->host[slot][linear & 0xfff];
	/* Code in MMIO: read through the bus; such blocks are never cached. */
	f->from_mmio = true;
	return (uint8_t)phys_read(f->cpu, f->phys[slot] | (linear & 0xfff), 1);
}

static uint64_t fetch_imm(struct fetch *f, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)fetch_byte(f) << (8 * i);
	return v;
}

static unsigned int reg8(unsigned int r, bool rex)
{
	return (!rex && r >= 4 && r < 8) ? REG8_HIGH + (r - 4) : r;
}

/* ModRM (+ SIB, displacement) for the memory or register operand. */
static void decode_modrm(struct fetch *f, struct insn *in, const struct prefixes *p, uint8_t modrm,
			 bool byte_regs)
{
	unsigned int mod = modrm >> 6, rm = modrm & 7;
	bool rex = p->rex != 0;

	in->reg = (uint8_t)(((modrm >> 3) & 7) | ((p->rex & 4) << 1));
	if (byte_regs)
		in->reg = (uint8_t)reg8(in->reg, rex);
	if (mod == 3) {
		in->rm = (uint8_t)(rm | ((p->rex & 1) << 3));
		if (byte_regs)
			in->rm = (uint8_t)reg8(in->rm, rex);
		return;
	}
	in->flags |= INSN_MEM;
	in->base = in->index = NOREG;
	in->scale = 0;
	in->disp = 0;
	if (in->asize == 2) {
		/* 16-bit addressing (Vol. 2A Table 2-1). */
		static const uint8_t base16[8] = { 3, 3, 5, 5, NOREG, NOREG, 5, 3 };
		static const uint8_t index16[8] = { 6, 7, 6, 7, 6, 7, NOREG, NOREG };

		if (mod == 0 && rm == 6) {
			in->disp = (int16_t)fetch_imm(f, 2);
		} else {
			in->base = base16[rm];
			in->index = index16[rm];
			if (mod == 1)
				in->disp = (int8_t)fetch_byte(f);
			else if (mod == 2)
				in->disp = (int16_t)fetch_imm(f, 2);
		}
		if (in->base == 5 && p->seg == 0xff)
			in->seg = SEG_SS;
		return;
	}
	if (rm == 4) {
		uint8_t sib = fetch_byte(f);
		unsigned int index = ((sib >> 3) & 7) | ((p->rex & 2) << 2);
		unsigned int base = sib & 7;

		in->scale = sib >> 6;
		if (index != 4)
			in->index = (uint8_t)index;
		if (base == 5 && mod == 0) {
			in->disp = (int32_t)fetch_imm(f, 4);
		} else {
			in->base = (uint8_t)(base | ((p->rex & 1) << 3));
		}
	} else if (rm == 5 && mod == 0) {
		in->disp = (int32_t)fetch_imm(f, 4);
		if (f->cpu->code64)
			in->base = EA_BASE_RIP;
	} else {
		in->base = (uint8_t)(rm | ((p->rex & 1) << 3));
	}
	if (mod == 1)
		in->disp = (int8_t)fetch_byte(f);
	else if (mod == 2)
		in->disp = (int32_t)fetch_imm(f, 4);
	if (p->seg == 0xff && in->base != NOREG && in->base != EA_BASE_RIP && ((in->base & 7) == 4 || (in->base & 7) == 5))
		in->seg = SEG_SS;
}

/* Handlers of the ModRM.reg-selected groups. */
static insn_fn group_handler(const struct insn *in, unsigned int map, uint8_t opcode, uint8_t modrm,
			     const struct prefixes *p, uint8_t *op, uint16_t *flags)
{
	unsigned int reg = (modrm >> 3) & 7;
	bool mem = (modrm >> 6) != 3;

	*op = (uint8_t)reg;
	if (map == 1) {
		switch (opcode) {
		case 0x80: case 0x81: case 0x82: case 0x83:
			if (reg == 7)
				*flags &= (uint16_t)~F_LOCKABLE;
			return op_alu_rm_imm;
		case 0x8f:
			return reg == 0 ? op_pop_rm : op_ud;
		case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
			*flags &= (uint16_t)~F_LOCKABLE;
			return op_shift;
		case 0xc6: case 0xc7:
			return reg == 0 ? op_mov_rm_imm : op_ud;
		case 0xf6: case 0xf7: {
			static const insn_fn f6[8] = { op_test_rm_imm, op_test_rm_imm, op_not, op_neg,
						       op_mul, op_imul1, op_div, op_idiv };

			if (reg != 2 && reg != 3)
				*flags &= (uint16_t)~F_LOCKABLE;
			if (reg < 2)
				*flags |= opcode == 0xf6 ? F_IB : F_IZ;
			return f6[reg];
		}
		case 0xfe:
			if (reg > 1)
				return op_ud;
			*op = (uint8_t)reg;
			return op_inc_dec;
		case 0xff:
			if (reg > 1)
				*flags &= (uint16_t)~F_LOCKABLE;
			switch (reg) {
			case 0: case 1: return op_inc_dec;
			case 2: *flags |= F_F64 | F_STOP; return op_call_rm;
			case 3: *flags |= F_STOP; return mem ? op_call_far_rm : op_ud;
			case 4: *flags |= F_F64 | F_STOP; return op_jmp_rm;
			case 5: *flags |= F_STOP; return mem ? op_jmp_far_rm : op_ud;
			case 6: *flags |= F_D64; return op_push_rm;
			default: return op_ud;
			}
		}
		return op_ud;
	}
	switch (opcode) {
	case 0x00:	/* group 6 */
		switch (reg) {
		case 0: *op = 0; return op_sldt_str;
		case 1: *op = 1; return op_sldt_str;
		case 2: return op_lldt;
		case 3: return op_ltr;
		case 4: *op = 0; return op_verr_verw;
		case 5: *op = 1; return op_verr_verw;
		default: return op_ud;
		}
	case 0x01:	/* group 7 */
		if (mem) {
			switch (reg) {
			case 0: *op = 0; return op_sgdt_sidt;
			case 1: *op = 1; return op_sgdt_sidt;
			case 2: *op = 0; *flags |= F_STOP; return op_lgdt_lidt;
			case 3: *op = 1; *flags |= F_STOP; return op_lgdt_lidt;
			case 4: return op_smsw;
			case 6: *flags |= F_STOP; return op_lmsw;
			case 7: *flags |= F_STOP; return op_invlpg;
			default: return op_ud;
			}
		}
		switch (modrm) {
		case 0xd0: return op_xgetbv;
		case 0xf8: return op_swapgs;
		case 0xf9: return op_rdtscp;
		default:
			if (reg == 4)
				return op_smsw;
			if (reg == 6) {
				*flags |= F_STOP;
				return op_lmsw;
			}
			return op_ud;
		}
	case 0xae:	/* group 15 */
		if (mem) {
			switch (reg) {
			case 0: return op_fxsave;
			case 1: return op_fxrstor;
			case 2: return op_ldmxcsr;
			case 3: return op_stmxcsr;
			case 7: return op_clflush;
			default: return op_ud;
			}
		}
		return reg >= 5 ? op_fence : op_ud;
	case 0xba:	/* group 8 */
		if (reg < 4)
			return op_ud;
		if (reg == 4)
			*flags &= (uint16_t)~F_LOCKABLE;
		*op = (uint8_t)(reg - 4);
		return op_bt_imm;
	case 0xc7:	/* group 9 */
		return (reg == 1 && mem) ? op_cmpxchg8b : op_ud;
	}
	(void)in;
	(void)p;
	return op_ud;
}

unsigned int decode_one(struct fetch *f, struct insn *in)
{
	struct tcg_cpu *cpu = f->cpu;
	struct prefixes p = { .seg = 0xff };
	const struct opcode *entry;
	unsigned int map = 1, start = f->len;
	uint16_t flags;
	uint8_t b, modrm = 0;
	bool mode64 = cpu->code64, mandatory_prefix_map = false;

	memset(in, 0, sizeof(*in));
	in->base = in->index = NOREG;
	f->insn_start = f->len;
	for (;;) {
		b = fetch_byte(f);
		switch (b) {
		case 0x66: p.opsize = 1; p.rex = 0; continue;
		case 0x67: p.asize = 1; p.rex = 0; continue;
		case 0xf0: p.lock = 1; p.rex = 0; continue;
		case 0xf2: case 0xf3: p.rep = b; p.rex = 0; continue;
		case 0x26: p.seg = SEG_ES; p.rex = 0; continue;
		case 0x2e: p.seg = SEG_CS; p.rex = 0; continue;
		case 0x36: p.seg = SEG_SS; p.rex = 0; continue;
		case 0x3e: p.seg = SEG_DS; p.rex = 0; continue;
		case 0x64: p.seg = SEG_FS; p.rex = 0; continue;
		case 0x65: p.seg = SEG_GS; p.rex = 0; continue;
		default: break;
		}
		if (mode64 && (b & 0xf0) == 0x40) {
			p.rex = b;	/* must be the last prefix; another one cancels it */
			continue;
		}
		break;
	}
	in->opcode = b;
	if (b == 0x0f) {
		map = 2;
		b = fetch_byte(f);
		in->opcode = b;
		if (b == 0x38 || b == 0x3a) {
			/* Three-byte maps: SSSE3/SSE4 and later; none advertised. */
			goto invalid;
		}
		entry = &two_byte[b];
		mandatory_prefix_map = entry->fn == op_sse;
	} else {
		entry = &one_byte[b];
	}
	flags = entry->flags;
	in->op = entry->op;
	in->fn = entry->fn;
	/* Jcc, SETcc, CMOVcc: the condition is the low opcode nibble. */
	if ((map == 1 && b >= 0x70 && b <= 0x7f) ||
	    (map == 2 && ((b >= 0x80 && b <= 0x9f) || (b >= 0x40 && b <= 0x4f))))
		in->op = b & 0xf;

	/* Address and operand sizes (Vol. 2A §2.2.1.2, §3.6). */
	if (mode64)
		in->asize = p.asize ? 4 : 8;
	else
		in->asize = (cpu->code32 ^ p.asize) ? 4 : 2;
	if (flags & F_BYTE)
		in->size = 1;
	else if (mode64 && (p.rex & 8))
		in->size = 8;
	else if (mode64 && (flags & F_F64))
		in->size = 8;
	else if (mode64 && (flags & F_D64))
		in->size = p.opsize ? 2 : 8;
	else if (mandatory_prefix_map)
		in->size = 16;
	else
		in->size = (cpu->code32 || mode64) ^ p.opsize ? 4 : 2;
	in->seg = p.seg == 0xff ? SEG_DS : p.seg;
	if (p.rex)
		in->flags |= INSN_REX;
	if (p.opsize)
		in->flags |= INSN_OPSIZE;
	if (p.rep == 0xf3)
		in->flags |= INSN_REP;
	else if (p.rep == 0xf2)
		in->flags |= INSN_REPNE;

	if ((flags & F_I64) && mode64)
		goto invalid;
	if ((flags & F_O64) && !mode64) {
		/* 63 outside 64-bit mode is ARPL (16-bit operands only). */
		in->fn = op_arpl;
		in->size = 2;
	}

	if (flags & F_MODRM) {
		modrm = fetch_byte(f);
		if (flags & F_GROUP) {
			uint8_t op;

			in->fn = group_handler(in, map, b, modrm, &p, &op, &flags);
			in->op = op;
			/* Group entries that became 64-bit by default. */
			if (mode64 && !(p.rex & 8) && !(flags & F_BYTE)) {
				if (flags & F_F64)
					in->size = 8;
				else if (flags & F_D64)
					in->size = p.opsize ? 2 : 8;
			}
		}
		/* MOV to/from CR/DR: ModRM.mod is ignored, always registers. */
		if (map == 2 && b >= 0x20 && b <= 0x23)
			modrm |= 0xc0;
		decode_modrm(f, in, &p, modrm, flags & F_BYTE);
		if (map == 2 && (b == 0xb6 || b == 0xbe)) {
			/* MOVZX/MOVSX r, r/m8: destination size in op, byte source. */
			in->op = in->size;
			in->size = 1;
			if (!(in->flags & INSN_MEM))
				in->rm = (uint8_t)reg8(in->rm & 0xf, p.rex != 0);
		} else if (map == 2 && (b == 0xb7 || b == 0xbf)) {
			in->op = in->size;
			in->size = 2;
		}
	} else if (map == 1 && ((b >= 0x40 && b <= 0x5f) || (b >= 0x90 && b <= 0x97) ||
				(b >= 0xb0 && b <= 0xbf))) {
		/* Register in the low opcode bits. */
		unsigned int r = (b & 7) | ((p.rex & 1) << 3);

		in->rm = (uint8_t)((flags & F_BYTE) ? reg8(r, p.rex != 0) : r);
	} else if (map == 2 && b >= 0xc8 && b <= 0xcf) {
		in->rm = (uint8_t)((b & 7) | ((p.rex & 1) << 3));
	}

	/* Immediates. */
	if (flags & (F_IB | F_IBU)) {
		uint8_t v = fetch_byte(f);

		in->imm = (flags & F_IB) ? (uint64_t)(int64_t)(int8_t)v : v;
	} else if (flags & F_IW) {
		in->imm = fetch_imm(f, 2);
	} else if (flags & F_IZ) {
		in->imm = in->size == 2 ? (uint64_t)(int64_t)(int16_t)fetch_imm(f, 2) :
					  (uint64_t)(int64_t)(int32_t)fetch_imm(f, 4);
	} else if (flags & F_IV) {
		in->imm = fetch_imm(f, in->size);
	} else if (flags & F_MOFFS) {
		in->imm = fetch_imm(f, in->asize);
	} else if (flags & F_FAR) {
		in->imm = fetch_imm(f, in->size == 2 ? 2 : 4);
		in->imm2 = (uint16_t)fetch_imm(f, 2);
	}
	if (map == 1 && b == 0xc8) {
		/* ENTER imm16, imm8 */
		in->imm2 = fetch_byte(f);
	}
	if (map == 1 && (b == 0xd2 || b == 0xd3))
		in->imm = 0x100;	/* shift count in CL */
	else if (map == 1 && (b == 0xd0 || b == 0xd1))
		in->imm = 1;
	if (map == 2 && (b == 0xa5 || b == 0xad))
		in->imm = 0x100;

	/*
	 * x87 and MMX/SSE/SSE2: the handler depends on the ModRM byte and, in
	 * the 0F map, on the mandatory prefix (F2/F3 before 66, Vol. 2A §2.1.2).
	 */
	if (map == 1 && b >= 0xd8 && b <= 0xdf) {
		in->fn = x87_decode(in, b, modrm);
	} else if (mandatory_prefix_map) {
		enum sse_prefix prefix = p.rep == 0xf3 ? SSE_F3 : p.rep == 0xf2 ? SSE_F2 :
					 p.opsize ? SSE_66 : SSE_NP;

		in->fn = sse_decode(in, b, prefix, modrm);
	}

	/* Prefix-selected variants. */
	if (map == 1 && b == 0x90 && !(p.rex & 1)) {
		in->fn = p.rep == 0xf3 ? op_pause : op_nop;
	}
	if (map == 2) {
		if (b == 0xb8 && p.rep != 0xf3)
			goto invalid;	/* POPCNT needs F3 */
		if (b == 0xbd && p.rep == 0xf3)
			in->fn = op_lzcnt;
		if ((b == 0x07 || b == 0x35) && !(p.rex & 8))
			in->size = 4;	/* SYSRET/SYSEXIT to 32-bit code without REX.W */
	}
	if (map == 1 && (b == 0xe5 || b == 0xe7 || b == 0xed || b == 0xef || b == 0x6d || b == 0x6f) &&
	    in->size == 8)
		in->size = 4;	/* port I/O is at most 32 bits wide */

	/* CMP (38-3D) reads only: not lockable. LEA needs a memory operand. */
	if (map == 1 && b < 0x40 && (b >> 3) == 7)
		flags &= (uint16_t)~F_LOCKABLE;
	if (map == 1 && b == 0x8d && !(in->flags & INSN_MEM))
		goto invalid;

	/* LOCK: only with a memory destination of a lockable instruction. */
	if (p.lock) {
		if (!(flags & F_LOCKABLE) || !(in->flags & INSN_MEM))
			goto invalid;
		in->flags |= INSN_LOCK;
	}
	if (!in->fn)
		goto invalid;
	if (flags & F_STOP)
		in->flags |= INSN_END;
	in->len = (uint8_t)(f->len - start);
	in->fn = insn_specialize(in);
	return f->len - start;

invalid:
	in->fn = op_ud;
	in->flags |= INSN_END;
	in->len = (uint8_t)(f->len - start);
	return f->len - start;
}
