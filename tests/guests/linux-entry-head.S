/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The linux-entry test image: a fake bzImage whose protected-mode part is a
 * test guest instead of a kernel (Documentation/x86/boot.rst).
 *
 *   file offset 0       .setup: boot sector, the setup header at 0x1f1, a
 *                       real-mode stub; (SETUP_SECTS + 1) * 512 bytes
 *   file offset 0x800   the protected-mode part, linked at 0x100000:
 *                       +0x000  startup_32 stand-in (reports a wrong entry)
 *                       +0x200  startup_64, the 64-bit boot protocol entry
 *                       ...     the guest, then a trailer with a checksum
 *
 * The kernel is not relocatable and its pref_address is 0x100000: the test
 * code is linked there, as a kernel built without CONFIG_RELOCATABLE is, so
 * the protocol leaves the loader one place to put it and the guest checks
 * that it runs exactly there (boot.rst, "pref_address": a non-relocatable
 * kernel runs at this address; "Loading The Rest of The Kernel": a bzImage
 * loads at 0x100000).
 *
 * Everything the loader tells us is recorded before anything changes it;
 * linux_entry_main() (linux-entry.c) then checks it.
 */
#include "linux-entry.h"

#define LOADED_HIGH		0x01		/* loadflags bit 0 */
#define XLF_KERNEL_64		0x0001		/* xloadflags bit 0 */
#define BOOT_PROTOCOL_2_15	0x020f
#define SETUP_SECTS		3		/* neither 0 nor the default 4 */
#define COM1			0x3f8
#define TEST_EXIT_PORT		0xf4
#define TEST_EXIT_FAIL		0x21

/*
 * boot.rst, "The Real-Mode Kernel Header", protocol 2.15.  Emitted twice
 * from this one macro: into the file at 0x1f1, where the loader reads it,
 * and into .rodata as image_setup_header, which the guest compares with
 * the copy in boot_params.  Sizes computed by the linker come from
 * linux-entry.ld.
 */
.macro setup_header
	.byte	SETUP_SECTS			/* 0x1f1 setup_sects */
	.word	0				/* 0x1f2 root_flags */
	.long	__syssize			/* 0x1f4 syssize: 16-byte paragraphs */
	.word	0				/* 0x1f8 ram_size */
	.word	0xffff				/* 0x1fa vid_mode: "normal" */
	.word	0				/* 0x1fc root_dev */
	.word	0xaa55				/* 0x1fe boot_flag */
	.byte	0xeb, .Lhdr_end\@ - .Lhdr_magic\@	/* 0x200 jump: past the header */
.Lhdr_magic\@:
	.ascii	"HdrS"				/* 0x202 header */
	.word	BOOT_PROTOCOL_2_15		/* 0x206 version */
	.long	0				/* 0x208 realmode_swtch */
	.word	0x1000				/* 0x20c start_sys_seg (obsolete) */
	.word	kernel_version_string - 0x200	/* 0x20e kernel_version */
	.byte	0				/* 0x210 type_of_loader: the loader's */
	.byte	LOADED_HIGH			/* 0x211 loadflags */
	.word	0				/* 0x212 setup_move_size */
	.long	0x100000			/* 0x214 code32_start */
	.long	0				/* 0x218 ramdisk_image */
	.long	0				/* 0x21c ramdisk_size */
	.long	0				/* 0x220 bootsect_kludge */
	.word	0				/* 0x224 heap_end_ptr */
	.byte	0				/* 0x226 ext_loader_ver */
	.byte	0				/* 0x227 ext_loader_type */
	.long	0				/* 0x228 cmd_line_ptr */
	.long	LINUX_ENTRY_INITRD_ADDR_MAX	/* 0x22c initrd_addr_max */
	.long	0x200000			/* 0x230 kernel_alignment (informational) */
	.byte	0				/* 0x234 relocatable_kernel: no */
	.byte	21				/* 0x235 min_alignment (informational) */
	.word	XLF_KERNEL_64			/* 0x236 xloadflags: nothing above 4 GiB */
	.long	LINUX_ENTRY_CMDLINE_SIZE	/* 0x238 cmdline_size */
	.long	0				/* 0x23c hardware_subarch */
	.quad	0				/* 0x240 hardware_subarch_data */
	.long	0				/* 0x248 payload_offset: none */
	.long	0				/* 0x24c payload_length */
	.quad	0				/* 0x250 setup_data */
	.quad	0x100000			/* 0x258 pref_address */
	.long	__init_size			/* 0x260 init_size: image + bss */
	.long	0				/* 0x264 handover_offset: no EFI */
	.long	__kernel_info_offset		/* 0x268 kernel_info_offset */
.Lhdr_end\@:
.endm

/*
 * Real-mode part.  A loader using the 16-bit protocol (QEMU's, through its
 * option ROM) jumps to 0x200 with DS = the start of this part; all we can
 * do there is say so.  The code runs straight after the header, where the
 * jump at 0x200 lands.
 */
	.section .setup, "ax"
	.code16
boot_sector:
	.org	0x1f1
	setup_header
realmode_entry:
	cli
	cld
	mov	$COM1, %dx
	mov	$realmode_message, %si
1:	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	1b
2:	mov	$TEST_EXIT_PORT, %dx
	mov	$TEST_EXIT_FAIL, %eax
	outl	%eax, %dx
3:	hlt
	jmp	3b
realmode_message:
	.asciz	"FAIL: linux-entry: started at the 16-bit real-mode entry; this image has only the 64-bit boot protocol\n"
kernel_version_string:
	.asciz	"vessel linux-entry test image"
	.org	(SETUP_SECTS + 1) * 512

/*
 * Offset 0 is startup_32, the 32-bit boot protocol's entry.  This stub's
 * bytes decode to the same instructions in 32-bit and in 64-bit mode, so
 * whichever mode a wrong loader jumps here in, it reports and fails.
 */
	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	cld
	mov	$COM1, %edx
	mov	$wrong_entry_message, %esi
/* ESI/RSI = message; prints it on COM1 and fails the test. */
print_and_fail:
	lodsb
	test	%al, %al
	jz	2f
	outb	%al, %dx
	jmp	print_and_fail
2:	mov	$TEST_EXIT_PORT, %edx
	mov	$TEST_EXIT_FAIL, %eax
	outl	%eax, %dx
3:	hlt
	jmp	3b
wrong_entry_message:
	.asciz	"FAIL: linux-entry: started at offset 0 of the kernel (the 32-bit entry), not at startup_64 (+0x200)\n"

/*
 * boot.rst, "64-bit Boot Protocol": the kernel is started at the load
 * address + 0x200 in 64-bit mode.  No stack is promised, so nothing is
 * pushed before RSP is ours, and no register is changed before it is saved.
 */
	.org	0x200
	.code64
	.globl	startup_64
startup_64:
	mov	%rax, entry_state + ES_RAX(%rip)
	mov	%rbx, entry_state + ES_RBX(%rip)
	mov	%rcx, entry_state + ES_RCX(%rip)
	mov	%rdx, entry_state + ES_RDX(%rip)
	mov	%rsi, entry_state + ES_RSI(%rip)
	mov	%rdi, entry_state + ES_RDI(%rip)
	mov	%rbp, entry_state + ES_RBP(%rip)
	mov	%rsp, entry_state + ES_RSP(%rip)
	/* Where we really run (checked once RFLAGS is saved). */
	lea	startup_64(%rip), %rax
	mov	%rax, entry_state + ES_RIP(%rip)
	mov	%cs, entry_state + ES_CS(%rip)
	mov	%ds, entry_state + ES_DS(%rip)
	mov	%es, entry_state + ES_ES(%rip)
	mov	%ss, entry_state + ES_SS(%rip)
	mov	%fs, entry_state + ES_FS(%rip)
	mov	%gs, entry_state + ES_GS(%rip)
	sgdt	entry_state + ES_GDTR(%rip)
	sidt	entry_state + ES_IDTR(%rip)
	str	entry_state + ES_TR(%rip)
	sldt	entry_state + ES_LDTR(%rip)
	mov	%cr0, %rax
	mov	%rax, entry_state + ES_CR0(%rip)
	mov	%cr3, %rax
	mov	%rax, entry_state + ES_CR3(%rip)
	mov	%cr4, %rax
	mov	%rax, entry_state + ES_CR4(%rip)
	mov	$0xc0000080, %ecx		/* IA32_EFER */
	rdmsr
	mov	%eax, entry_state + ES_EFER(%rip)
	mov	%edx, entry_state + ES_EFER + 4(%rip)
	lea	boot_stack_top(%rip), %rsp
	pushfq
	popq	entry_state + ES_RFLAGS(%rip)
	/* Nothing above changed the flags; the compare may now. */
	cmpq	$startup_64, entry_state + ES_RIP(%rip)
	jne	wrong_address

	/* The loader zeroes nothing past the file (boot.rst has no bss). */
	cld
	lea	__bss_zero_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	shr	$3, %rcx
	xor	%eax, %eax
	rep stosq

	/*
	 * Our own GDT, laid out as the runtime's (lib/boot.h), so that the
	 * runtime's IDT gates (selector GDT_CODE64) work.  The loader's GDT
	 * stays where it is for the checks.
	 */
	lgdt	linux_entry_gdt_descriptor(%rip)
	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	pushq	$GDT_CODE64
	lea	1f(%rip), %rax
	pushq	%rax
	lretq
1:	lea	entry_state(%rip), %rdi
	call	linux_entry_main
2:	cli
	hlt
	jmp	2b

/* Position-independent, since we are not where we were linked. */
wrong_address:
	cld
	mov	$COM1, %edx
	lea	wrong_address_message(%rip), %rsi
	jmp	print_and_fail
wrong_address_message:
	.asciz	"FAIL: linux-entry: startup_64 runs at another address than 0x100200, but this kernel is not relocatable and its pref_address is 0x100000\n"

	.section .rodata
	.balign 8
/*
 * Accessed bits preset: the processor then never writes the descriptors,
 * and the checksummed image stays as the loader copied it.
 */
linux_entry_gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* GDT_CODE64 */
	.quad	0x00cf93000000ffff	/* GDT_DATA */
	.quad	0x00cf9b000000ffff	/* GDT_CODE32 */
linux_entry_gdt_end:
	.balign 8
	.word	0, 0, 0
linux_entry_gdt_descriptor:
	.word	linux_entry_gdt_end - linux_entry_gdt - 1
	.quad	linux_entry_gdt

	.globl	image_setup_header
image_setup_header:
	setup_header
	.globl	image_setup_header_end
image_setup_header_end:

/* boot.rst, "The kernel_info": no setup_data types are understood. */
	.balign 4
	.globl	kernel_info
kernel_info:
	.ascii	"LToP"			/* header */
	.long	kernel_info_var_len_data - kernel_info	/* size */
	.long	kernel_info_end - kernel_info		/* size_total */
	.long	0			/* setup_type_max */
kernel_info_var_len_data:
kernel_info_end:

/* Filled in by mkbzimage.py after the link. */
	.section .trailer, "a"
	.globl	image_trailer
image_trailer:
	.ascii	"VSLTRAIL"
	.quad	0

	.section .bss.entry, "aw", @nobits
	.balign 16
	.globl	entry_state
entry_state:
	.skip	ES_SIZE

	.bss
	.balign 16
	.skip	16384
boot_stack_top:
