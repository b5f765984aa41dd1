/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 (D8-DF) and MMX/SSE/SSE2 (0F xx) arithmetic: not implemented yet.
 * Until they are, these instructions raise #UD and say so once, so a guest
 * that needs them fails visibly instead of computing wrong results.
 */
#include "ops.h"

#include "log.h"

int op_fpu(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_x87(cpu);
	log_guest_once("software CPU: x87 instruction %02x at 0x%" G_GINT64_MODIFIER "x is not implemented yet (#UD)",
		       in->opcode, cpu->rip);
	cpu_raise_ud(cpu);
}

int op_sse(struct tcg_cpu *cpu, const struct insn *in)
{
	fpu_check_sse(cpu);
	log_guest_once("software CPU: SSE/MMX instruction 0f %02x at 0x%" G_GINT64_MODIFIER "x is not implemented yet (#UD)",
		       in->opcode, cpu->rip);
	cpu_raise_ud(cpu);
}
