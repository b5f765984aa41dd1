/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stddef.h>
#include <stdint.h>

/* Architectural exception vectors (SDM vol. 3A §7.3, table 7-1). */
#define VEC_DE		0
#define VEC_DB		1
#define VEC_NMI		2
#define VEC_BP		3
#define VEC_UD		6
#define VEC_DF		8
#define VEC_GP		13
#define VEC_PF		14

/* Page-fault error code bits (SDM vol. 3A §5.7, figure 5-12). */
#define PF_ERR_P	0x01
#define PF_ERR_W	0x02
#define PF_ERR_U	0x04
#define PF_ERR_RSVD	0x08
#define PF_ERR_I	0x10

/*
 * Register state saved by traps.S, lowest address first.  The stubs of
 * vectors 8, 10-14, 17, 21, 29 and 30 expect a CPU-pushed error code, so
 * hardware interrupts must use vectors from 0x20 up.
 */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;	/* 0 for vectors without one */
	/* Pushed by the processor (SDM vol. 3A §7.14.2, figure 7-8). */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap_handler_fn)(struct trap_frame *frame);

void idt_init(void);
/* NULL restores the default: exceptions and unexpected IRQs fail the test. */
void idt_set_handler(uint8_t vector, trap_handler_fn handler);

/* Load the IDT on an application processor (the table itself is shared). */
void idt_load(void);

#endif
