/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Application processor start-up code, copied by smp_prepare() to
 * SMP_TRAMPOLINE_ADDR.  A STARTUP IPI with vector V starts the AP in real
 * mode at V000:0000, i.e. CS = V << 8, IP = 0 (SDM vol. 3A §9.4.4.1), so
 * everything here is CS-relative until protected mode is on; then we jump
 * to ap_entry32 in the kernel image (boot.S).
 */
#include "boot.h"

	.section .rodata
	.code16
	.globl smp_trampoline_start, smp_trampoline_end
smp_trampoline_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	%ds:(trampoline_gdt_descriptor - smp_trampoline_start)
	mov	%cr0, %eax
	or	$1, %eax		/* CR0.PE */
	mov	%eax, %cr0
	ljmpl	$GDT_CODE32, $ap_entry32

	.balign 8
trampoline_gdt_descriptor:
	.word	GDT_SIZE - 1
	.long	gdt
smp_trampoline_end:
