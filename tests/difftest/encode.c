/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Instruction encoding from the Intel SDM Vol. 2A, chapter 2: prefixes
 * (§2.1.1), REX (§2.2.1), ModRM and SIB (§2.1.5, Tables 2-2 and 2-3, with
 * the 64-bit special cases of Table 2-5: RIP-relative for mod=00 rm=101 and
 * "no base" for SIB base=101 with mod=00).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

static bool is_high_byte(unsigned int reg)
{
	return reg >= REG_AH && reg <= REG_BH;
}

/* Register field value and whether the register needs (1) or forbids (-1) REX. */
static unsigned int reg_code(unsigned int reg, bool byte, int *rex_need)
{
	if (is_high_byte(reg)) {
		*rex_need = -1;
		return reg - REG_AH + 4;
	}
	if (byte && reg >= 4 && reg <= 7)
		*rex_need = 1;
	else if (reg >= 8)
		*rex_need = 1;
	else
		*rex_need = 0;
	return reg;
}

struct rex_state {
	bool needed;
	bool forbidden;
	uint8_t bits;	/* W R X B */
};

static void note_reg(struct rex_state *rex, unsigned int reg, bool byte, uint8_t ext_bit,
		     unsigned int *code)
{
	int need;

	*code = reg_code(reg, byte, &need);
	if (need < 0)
		rex->forbidden = true;
	if (need > 0)
		rex->needed = true;
	if (*code >= 8) {
		rex->bits |= ext_bit;
		*code &= 7;
	}
}

static void put_le(uint8_t *out, size_t *len, uint64_t value, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		out[(*len)++] = (uint8_t)(value >> (8 * i));
}

size_t insn_encode(const struct insn *insn, uint64_t addr, uint8_t *out)
{
	struct rex_state rex = { .needed = insn->rex_w || insn->force_rex };
	uint8_t modrm = 0, sib = 0;
	bool has_sib = false;
	unsigned int disp_size = 0;
	int64_t disp = 0;
	size_t rip_disp_at = 0;
	size_t len = 0;
	unsigned int code;

	if (insn->rex_w)
		rex.bits |= 8;

	if (insn->has_modrm) {
		const struct operand *rm = &insn->rm;

		if (insn->digit)
			code = insn->modrm_reg & 7;
		else
			note_reg(&rex, insn->modrm_reg, insn->byte_reg, 4, &code);
		modrm = (uint8_t)(code << 3);
		if (rm->kind == OPND_REG) {
			note_reg(&rex, rm->reg, insn->byte_rm, 1, &code);
			modrm |= 0xc0 | code;
		} else if (rm->kind == OPND_MEM) {
			const struct mem_operand *mem = &rm->mem;
			unsigned int scale_bits = mem->scale == 8 ? 3 : mem->scale == 4 ? 2 :
						  mem->scale == 2 ? 1 : 0;

			disp = mem->disp;
			if (mem->base == MEM_RIP) {
				if (mem->index != MEM_NO_INDEX)
					return 0;
				modrm |= 0x05;
				disp_size = 4;
				rip_disp_at = 1;	/* patched below once the length is known */
			} else if (mem->base == MEM_NO_BASE) {
				unsigned int index_code = 4;

				if (mem->index != MEM_NO_INDEX)
					note_reg(&rex, (unsigned int)mem->index, false, 2, &index_code);
				modrm |= 0x04;
				has_sib = true;
				sib = (uint8_t)(scale_bits << 6 | index_code << 3 | 5);
				disp_size = 4;
			} else {
				unsigned int base_code;

				note_reg(&rex, (unsigned int)mem->base, false, 1, &base_code);
				disp_size = mem->disp_size;
				if (disp_size == 0 && disp != 0)
					disp_size = disp >= -128 && disp <= 127 ? 1 : 4;
				if (disp_size == 1 && (disp < -128 || disp > 127))
					disp_size = 4;
				/* mod=00 with base 101 means RIP/no base: use a zero disp8. */
				if (disp_size == 0 && base_code == 5)
					disp_size = 1;
				modrm |= disp_size == 0 ? 0x00 : disp_size == 1 ? 0x40 : 0x80;
				if (mem->index != MEM_NO_INDEX || base_code == 4) {
					unsigned int index_code = 4;

					if (mem->index == 4)
						return 0;	/* RSP cannot be an index */
					if (mem->index != MEM_NO_INDEX)
						note_reg(&rex, (unsigned int)mem->index, false, 2,
							 &index_code);
					modrm |= 0x04;
					has_sib = true;
					sib = (uint8_t)(scale_bits << 6 | index_code << 3 | base_code);
				} else {
					modrm |= base_code;
				}
			}
		} else {
			return 0;
		}
	}
	if (insn->opcode_reg >= 0)
		note_reg(&rex, (unsigned int)insn->opcode_reg, insn->byte_reg, 1, &code);
	if (rex.bits)
		rex.needed = true;
	if (rex.needed && rex.forbidden)
		return 0;

	bool mem = insn->has_modrm && insn->rm.kind == OPND_MEM;
	uint8_t segment = mem && insn->rm.mem.segment ? insn->rm.mem.segment : insn->segment;

	if (insn->lock)
		out[len++] = insn->lock;
	if (segment)
		out[len++] = segment;
	if (insn->opsize)
		out[len++] = 0x66;
	if (insn->addr32 || (mem && insn->rm.mem.addr32))
		out[len++] = 0x67;
	if (insn->rep)
		out[len++] = insn->rep;
	if (rex.needed)
		out[len++] = 0x40 | rex.bits;
	for (unsigned int i = 0; i < insn->opcode_len; i++)
		out[len++] = insn->opcode[i];
	if (insn->opcode_reg >= 0)
		out[len - 1] = (uint8_t)(out[len - 1] + code);
	if (insn->has_modrm) {
		out[len++] = modrm;
		if (has_sib)
			out[len++] = sib;
		if (rip_disp_at)
			rip_disp_at = len;
		put_le(out, &len, (uint64_t)disp, disp_size);
	}
	put_le(out, &len, insn->imm, insn->imm_size);
	put_le(out, &len, insn->imm2, insn->imm2_size);
	if (len > INSN_MAX_LENGTH)
		return 0;
	if (rip_disp_at) {
		int64_t rel = (int64_t)(insn->rm.mem.rip_target - (addr + len));

		if (rel < INT32_MIN || rel > INT32_MAX)
			return 0;
		len = rip_disp_at;
		put_le(out, &len, (uint64_t)rel, 4);
		len = rip_disp_at + 4 + insn->imm_size + insn->imm2_size;
	}
	return len;
}

const char *reg_name(unsigned int reg, unsigned int size)
{
	static const char *const names64[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	static const char *const names32[16] = {
		"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
		"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
	};
	static const char *const names16[16] = {
		"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
		"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
	};
	static const char *const names8[20] = {
		"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
		"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
		"ah", "ch", "dh", "bh",
	};

	if (size == 1)
		return reg < 20 ? names8[reg] : "?";
	if (reg >= 16)
		return "?";
	return size == 2 ? names16[reg] : size == 4 ? names32[reg] : names64[reg];
}

static const char *size_name(unsigned int size)
{
	switch (size) {
	case 1: return "byte ";
	case 2: return "word ";
	case 4: return "dword ";
	case 8: return "qword ";
	case 16: return "xmmword ";
	default: return "";
	}
}

static const char *segment_name(uint8_t prefix)
{
	switch (prefix) {
	case 0x26: return "es:";
	case 0x2e: return "cs:";
	case 0x36: return "ss:";
	case 0x3e: return "ds:";
	case 0x64: return "fs:";
	case 0x65: return "gs:";
	default: return "";
	}
}

void format_mem(char *buf, size_t len, const struct mem_operand *mem, unsigned int size)
{
	unsigned int addr_size = mem->addr32 ? 4 : 8;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "%s%s[", size_name(size), segment_name(mem->segment));
	if (mem->base == MEM_RIP) {
		g_string_append_printf(s, "%s 0x%" G_GINT64_MODIFIER "x]", mem->addr32 ? "eip" : "rip",
				       mem->rip_target);
		g_strlcpy(buf, s->str, len);
		g_string_free(s, TRUE);
		return;
	}
	bool first = true;

	if (mem->base >= 0) {
		g_string_append(s, reg_name((unsigned int)mem->base, addr_size));
		first = false;
	}
	if (mem->index >= 0) {
		g_string_append_printf(s, "%s%s*%u", first ? "" : "+",
				       reg_name((unsigned int)mem->index, addr_size), mem->scale);
		first = false;
	}
	if (mem->disp || first)
		g_string_append_printf(s, "%s0x%x", mem->disp < 0 && !first ? "-" : first ? "" : "+",
				       mem->disp < 0 && !first ? -(unsigned int)mem->disp :
							       (unsigned int)mem->disp);
	g_string_append_c(s, ']');
	g_strlcpy(buf, s->str, len);
	g_string_free(s, TRUE);
}

void format_operand(char *buf, size_t len, const struct operand *op, unsigned int size)
{
	if (op->kind == OPND_REG)
		g_strlcpy(buf, reg_name(op->reg, size), len);
	else if (op->kind == OPND_MEM)
		format_mem(buf, len, &op->mem, size);
	else
		g_strlcpy(buf, "", len);
}
