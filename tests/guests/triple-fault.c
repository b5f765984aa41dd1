/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * triple-fault: a processor that triple-faults enters shutdown, and the PC
 * around it resets (SDM vol. 3A §7.15, "Interrupt 8—Double Fault
 * Exception": a fault while delivering #DF is a triple fault); vessel-vmm
 * gets KVM_EXIT_SHUTDOWN and resets the machine.
 *
 * First boot: writes a mark in RAM, prints "first boot", loads an IDT with
 * limit 0 and drops to CPL 3 (iretq; sysretq with via=sysret).  The user
 * code stores its CS in the mark and runs ud2 at USER_UD2_ADDR: #UD finds
 * no IDT entry, so #GP, which finds none either, so #DF, which fails the
 * same way -- a triple fault.  It happens at CPL 3 on purpose: on the
 * nested KVM of our development machines CPL-3 code runs natively and the
 * processor delivers the fault chain, while at CPL 0 the host's
 * instruction emulator gives up ("emulation failure") instead.
 *
 * Second boot (the VMM reset the machine and loaded the image again):
 * finds the mark, checks that the user code ran at CPL 3 and got as far as
 * ud2, clears the mark and passes.  With --no-reboot the VMM must exit with
 * status 0 and say on stderr where the triple fault happened.
 */
#include "lib/boot.h"
#include "lib/io.h"
#include "lib/multiboot.h"
#include "lib/paging.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "triple-fault";

/*
 * The user world is the 2 MiB page at 2 MiB, above the image (which stays
 * supervisor-only): code copied so that ud2 sits at a fixed address the
 * test can look for in the VMM's message, the mark, and a stack.
 */
#define USER_PAGE		0x200000ULL
#define USER_UD2_ADDR		0x3f0100ULL
#define MARK_ADDR		0x3f8000ULL
#define USER_STACK_TOP		0x3fc000ULL

#define MARK_MAGIC		0x7472697066617565ULL	/* "eaufpirt" */
#define STAGE_DROPPING		1	/* set by the kernel before the drop */
#define STAGE_UD2		2	/* set by the user code, just before ud2 */

/* GDT: the runtime's four descriptors (lib/boot.h), then user segments. */
#define GDT_USER_DATA		0x20
#define GDT_USER_CODE64		0x28
#define RPL3			3

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define EFER_SCE		(1ULL << 0)
#define RFLAGS_FIXED		0x2ULL	/* IF = 0, IOPL = 0 */

struct triple_fault_mark {
	uint64_t magic;
	uint64_t boots;
	uint64_t stage;
	uint64_t user_cs;
	uint64_t user_ss;
};

#define MARK_STAGE_OFFSET	16
#define MARK_USER_CS_OFFSET	24
#define MARK_USER_SS_OFFSET	32
_Static_assert(__builtin_offsetof(struct triple_fault_mark, stage) ==
	       MARK_STAGE_OFFSET, "stage");
_Static_assert(__builtin_offsetof(struct triple_fault_mark, user_cs) ==
	       MARK_USER_CS_OFFSET, "user_cs");
_Static_assert(__builtin_offsetof(struct triple_fault_mark, user_ss) ==
	       MARK_USER_SS_OFFSET, "user_ss");

/*
 * Runs at CPL 3 from its copy at USER_UD2_ADDR - (user_ud2 - user_code).
 * Only absolute addresses inside the user page, so it works from there.
 */
extern const char user_code[], user_ud2[], user_code_end[];
#define STR(x)	#x
#define XSTR(x)	STR(x)
__asm__(".section .rodata\n"
	"user_code:\n\t"
	"mov %cs, %eax\n\t"
	"mov %rax, " XSTR(MARK_ADDR) " + " XSTR(MARK_USER_CS_OFFSET) "\n\t"
	"mov %ss, %eax\n\t"
	"mov %rax, " XSTR(MARK_ADDR) " + " XSTR(MARK_USER_SS_OFFSET) "\n\t"
	"movq $" XSTR(STAGE_UD2) ", " XSTR(MARK_ADDR) " + " XSTR(MARK_STAGE_OFFSET) "\n"
	"user_ud2:\n\t"
	"ud2\n"
	"user_code_end:\n\t"
	".previous");

/* SDM vol. 3A §3.4.5; accessed bits preset. */
static const uint64_t triple_fault_gdt[] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffff,	/* GDT_CODE64 */
	0x00cf93000000ffff,	/* GDT_DATA */
	0x00cf9b000000ffff,	/* GDT_CODE32 */
	0x00cff3000000ffff,	/* GDT_USER_DATA: DPL 3 */
	0x00affb000000ffff,	/* GDT_USER_CODE64: DPL 3, L = 1 */
};

struct descriptor_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void make_user_page(void)
{
	uint64_t *pdpt = (uint64_t *)(boot_pml4[0] & PTE_ADDR_MASK);

	/* CPL 3 needs U at every level (SDM vol. 3A, "Access Rights"). */
	boot_pml4[0] |= PTE_U;
	pdpt[0] |= PTE_U;
	boot_pd[USER_PAGE >> 21] |= PTE_U;
	write_cr3(read_cr3());
}

static __attribute__((noreturn)) void drop_to_user(const char *via,
						    uint64_t entry)
{
	struct descriptor_register gdtr = {
		.limit = sizeof(triple_fault_gdt) - 1,
		.base = (uint64_t)triple_fault_gdt,
	};
	struct descriptor_register idtr = { .limit = 0, .base = 0 };

	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	/* From here on, no exception can be delivered. */
	__asm__ volatile("lidt %0" : : "m"(idtr));
	if (!strcmp(via, "sysret")) {
		register uint64_t rflags __asm__("r11") = RFLAGS_FIXED;

		/*
		 * SYSRET to 64-bit mode: CS = STAR[63:48] + 16, SS =
		 * STAR[63:48] + 8, RIP = RCX, RFLAGS = R11 (SDM vol. 2B).
		 */
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
		wrmsr(MSR_STAR, (uint64_t)(GDT_CODE32 | RPL3) << 48 |
				(uint64_t)GDT_CODE64 << 32);
		__asm__ volatile("mov %0, %%rsp\n\t"
				 "sysretq"
				 : : "r"(USER_STACK_TOP), "c"(entry),
				   "r"(rflags) : "memory");
	} else {
		/* A 64-bit IRET pops RIP, CS, RFLAGS, RSP and SS. */
		__asm__ volatile("pushq %0\n\t"
				 "pushq %1\n\t"
				 "pushq %2\n\t"
				 "pushq %3\n\t"
				 "pushq %4\n\t"
				 "iretq"
				 : : "i"(GDT_USER_DATA | RPL3),
				   "r"(USER_STACK_TOP), "i"(RFLAGS_FIXED),
				   "i"(GDT_USER_CODE64 | RPL3), "r"(entry)
				 : "memory");
	}
	__builtin_unreachable();
}

int main(void)
{
	volatile struct triple_fault_mark *mark =
		(volatile struct triple_fault_mark *)MARK_ADDR;
	uint64_t ud2_offset = user_ud2 - user_code;
	uint64_t entry = USER_UD2_ADDR - ud2_offset;
	char via[16] = "iretq";

	test_assert((uint64_t)__image_end <= USER_PAGE,
		    "image ends at %p, inside the user page at %#llx",
		    __image_end, USER_PAGE);
	if (mark->magic == MARK_MAGIC) {
		printf("triple-fault: second boot: the mark at %#llx says boot %lu, stage %lu, user CS %#lx SS %#lx\n",
		       MARK_ADDR, mark->boots, mark->stage, mark->user_cs,
		       mark->user_ss);
		test_assert(mark->boots == 1, "mark says %lu boots before this",
			    mark->boots);
		test_assert(mark->stage == STAGE_UD2,
			    "the user code did not reach ud2 (stage %lu)",
			    mark->stage);
		/* CS.RPL is the CPL (SDM vol. 3A, "Privilege Levels"). */
		test_assert((mark->user_cs & 3) == 3,
			    "the user code ran with CS %#lx, not at CPL 3",
			    mark->user_cs);
		/*
		 * The selector itself should be ours, and is under QEMU's TCG;
		 * the nested KVM of our development machines shows the host's
		 * own user selectors (0x33, 0x2b) to CPL-3 code instead.
		 */
		if (mark->user_cs != (GDT_USER_CODE64 | RPL3) ||
		    mark->user_ss != (GDT_USER_DATA | RPL3))
			printf("triple-fault: note: CS/SS at CPL 3 read %#lx/%#lx, not the %#x/%#x loaded: the host's selectors leak through\n",
			       mark->user_cs, mark->user_ss,
			       GDT_USER_CODE64 | RPL3, GDT_USER_DATA | RPL3);
		printf("triple-fault: the triple fault at CPL 3 reset the machine and the image started again\n");
		mark->magic = 0;
		return 0;
	}

	cmdline_get("via", via, sizeof(via));
	test_assert(!strcmp(via, "iretq") || !strcmp(via, "sysret"),
		    "via=%s: want iretq or sysret", via);
	memcpy((void *)entry, user_code, user_code_end - user_code);
	mark->magic = MARK_MAGIC;
	mark->boots = 1;
	mark->stage = STAGE_DROPPING;
	mark->user_cs = 0;
	mark->user_ss = 0;
	make_user_page();
	printf("triple-fault: first boot: mark at %#llx; IDT limit 0, then to CPL 3 by %s, where ud2 at %#llx must triple-fault\n",
	       MARK_ADDR, via, USER_UD2_ADDR);
	drop_to_user(via, entry);
}
