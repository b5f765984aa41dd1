/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One 16-byte entry stub per vector.  The processor pushes an error code
 * for vectors 8, 10-14, 17, 21, 29 and 30 (SDM vol. 3A §7.13 and table
 * 7-1); the other stubs push a zero so every trap_frame has the same shape.
 */
	.text
	.code64
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set	vector, 0
	.rept	256
	.balign 16
	.if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
	.else
	pushq	$0
	.endif
	.if vector < 128
	pushq	$vector
	.else
	/* push imm8 sign-extends: vectors >= 128 need the imm32 form. */
	.byte	0x68
	.long	vector
	.endif
	jmp	trap_common
	.set	vector, vector + 1
	.endr

trap_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	/* 5 + 2 + 15 quadwords from a 16-byte aligned RSP: aligned for the call. */
	cld
	mov	%rsp, %rdi
	call	trap_dispatch
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq
