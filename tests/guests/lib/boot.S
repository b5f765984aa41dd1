/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry of every test guest.
 *
 * The loader starts us as Multiboot 0.6.96 §3.2 says: EAX = 0x2BADB002,
 * EBX = physical address of the multiboot information, 32-bit protected
 * mode with flat 4 GiB CS/DS, paging off, interrupts off, and nothing else
 * valid: no stack, GDT or IDT we may rely on.  We load our own GDT, build
 * an identity map of the low 4 GiB with 2 MiB pages, switch to long mode
 * (Intel SDM vol. 3A §10.8.5 "Initializing IA-32e Mode") and call the C
 * entry guest_start(magic, info).
 *
 * Application processors come here too, from the real-mode trampoline
 * (trampoline.S), at ap_entry32.
 */
#include "boot.h"

#define MULTIBOOT_HEADER_MAGIC	0x1badb002
/* §3.1.2 flags: bit 0 page-align modules, bit 1 pass memory information. */
#define MULTIBOOT_HEADER_FLAGS	0x00000003

#define CR0_PE		0x00000001
#define CR0_WP		0x00010000
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

/* Page-table entry bits (SDM vol. 3A §5.5, tables 5-15 ff.). */
#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_PS		0x080

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MULTIBOOT_HEADER_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov	%eax, %ebp		/* multiboot magic */
	/*
	 * Zero .bss ourselves: ELF loaders zero p_memsz beyond p_filesz,
	 * but after a reset only a fresh image makes the guest's state
	 * predictable, and rep stosl costs one instruction.
	 */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl
	mov	%ebp, boot_magic
	mov	%ebx, boot_info_addr
	mov	$boot_stack_top, %esp

	lgdt	gdt_descriptor
	ljmp	$GDT_CODE32, $1f
1:	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	mov	$boot_pdpt, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, boot_pml4
	mov	$boot_pd, %eax
	or	$(PTE_P | PTE_W), %eax
	xor	%ecx, %ecx
2:	mov	%eax, boot_pdpt(, %ecx, 8)
	add	$4096, %eax
	inc	%ecx
	cmp	$4, %ecx
	jb	2b

	/*
	 * 2048 2 MiB pages cover 0-4 GiB.  The last GiB holds the IOAPIC,
	 * the LAPIC and PCI BARs: map it uncached (PCD|PWT selects PAT
	 * entry 3, UC, with the power-on PAT; SDM vol. 3A §13.12.4).
	 */
	xor	%ecx, %ecx
3:	mov	%ecx, %eax
	shl	$21, %eax
	or	$(PTE_P | PTE_W | PTE_PS), %eax
	cmp	$1536, %ecx
	jb	4f
	or	$(PTE_PCD | PTE_PWT), %eax
4:	mov	%eax, boot_pd(, %ecx, 8)
	inc	%ecx
	cmp	$2048, %ecx
	jb	3b

	mov	$bsp_entry64, %esi
	jmp	enter_long_mode

/*
 * Application processors arrive here from the trampoline in 32-bit
 * protected mode with our GDT loaded; the BSP's page tables are reused.
 */
	.globl ap_entry32
ap_entry32:
	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$ap_entry64, %esi
	/* fall through */

/* ESI = 64-bit code to continue at.  SDM vol. 3A §10.8.5 steps 1-4. */
enter_long_mode:
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	and	$~(CR0_CD | CR0_NW), %eax
	/* WP: supervisor writes to read-only pages fault, as page-fault tests need. */
	or	$(CR0_PG | CR0_WP | CR0_PE), %eax
	mov	%eax, %cr0
	/* A far jump through memory loads the 64-bit CS (§10.8.5 step 5). */
	mov	%esi, long_mode_target
	ljmp	*long_mode_target_ptr

	.code64
bsp_entry64:
	call	load_segments64
	mov	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	boot_magic, %edi
	mov	boot_info_addr, %esi
	call	guest_start
5:	cli
	hlt
	jmp	5b

ap_entry64:
	/* No stack yet: the segment loads are inline, not a call. */
	lgdt	gdt_descriptor
	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	/* Each AP takes the next stack; spares beyond SMP_MAX_APS halt. */
	mov	$1, %eax
	lock xadd %eax, ap_next_index
	cmp	$SMP_MAX_APS, %eax
	jae	7f
	mov	%eax, %ecx
	inc	%ecx
	shl	$AP_STACK_SHIFT, %ecx
	lea	ap_stacks(%rcx), %rsp
	xor	%ebp, %ebp
	mov	%eax, %edi
	call	smp_ap_start
7:	cli
	hlt
	jmp	7b

/* The 32-bit LGDT left the upper half of GDTR's base undefined: reload. */
load_segments64:
	lgdt	gdt_descriptor
	mov	$GDT_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	ret

	.data
	.balign 8
/* SDM vol. 3A §3.4.5: flat descriptors; L=1 for the 64-bit code segment. */
	.globl gdt, gdt_end
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* GDT_CODE64 */
	.quad	0x00cf92000000ffff	/* GDT_DATA */
	.quad	0x00cf9a000000ffff	/* GDT_CODE32 */
gdt_end:
	.if gdt_end - gdt != GDT_SIZE
	.error "GDT_SIZE in boot.h is out of date"
	.endif
	.balign 8
	.globl gdt_descriptor
gdt_descriptor:
	.word	gdt_end - gdt - 1
	.quad	gdt
	.balign 8
long_mode_target_ptr:
long_mode_target:
	.long	0
	.word	GDT_CODE64
	.globl boot_magic, boot_info_addr
boot_magic:
	.long	0
boot_info_addr:
	.long	0
	.globl ap_next_index
ap_next_index:
	.long	0

	.bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
	.globl boot_pd
boot_pd:
	.skip	4 * 4096
	.balign 16
	.skip	BOOT_STACK_SIZE
boot_stack_top:
	.balign 16
	.globl ap_stacks
ap_stacks:
	.skip	SMP_MAX_APS << AP_STACK_SHIFT
