/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "idt.h"
#include "boot.h"
#include "io.h"
#include "printf.h"
#include "test.h"

/* 64-bit interrupt gate descriptor (SDM vol. 3A §7.14.1, figure 7-8). */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define IDT_GATE_INTERRUPT	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define TRAP_STUB_SIZE		16

extern char trap_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler_fn handlers[256];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD exception", "#VE virtualization exception",
	"#CP control protection",
};

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) descriptor = {
		.limit = sizeof(idt) - 1,
		.base = (uint64_t)idt,
	};

	__asm__ volatile("lidt %0" : : "m"(descriptor));
}

void idt_init(void)
{
	for (int vector = 0; vector < 256; vector++) {
		uint64_t stub = (uint64_t)trap_stubs + vector * TRAP_STUB_SIZE;

		idt[vector] = (struct idt_gate){
			.offset_low = (uint16_t)stub,
			.selector = GDT_CODE64,
			.type_attr = IDT_GATE_INTERRUPT,
			.offset_mid = (uint16_t)(stub >> 16),
			.offset_high = (uint32_t)(stub >> 32),
		};
	}
	idt_load();
}

void idt_set_handler(uint8_t vector, trap_handler_fn handler)
{
	handlers[vector] = handler;
}

void trap_dispatch(struct trap_frame *frame);

void trap_dispatch(struct trap_frame *frame)
{
	trap_handler_fn handler = handlers[frame->vector & 0xff];
	const char *name;

	if (handler) {
		handler(frame);
		return;
	}
	/* The LAPIC's spurious vector needs no EOI (SDM vol. 3A §12.9). */
	if (frame->vector == 0xff)
		return;
	name = frame->vector < 32 && exception_names[frame->vector] ?
	       exception_names[frame->vector] : "interrupt";
	printf("unexpected %s (vector %lu) error code %#lx at rip %#lx\n",
	       name, frame->vector, frame->error_code, frame->rip);
	if (frame->vector == VEC_PF)
		printf("  cr2 %#lx\n", read_cr2());
	printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
	       frame->rax, frame->rbx, frame->rcx, frame->rdx);
	printf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n",
	       frame->rsi, frame->rdi, frame->rbp, frame->rsp);
	test_fail("unexpected %s (vector %lu) at rip %#lx", name,
		  frame->vector, frame->rip);
}
