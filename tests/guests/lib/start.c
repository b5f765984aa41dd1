/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "boot.h"
#include "idt.h"
#include "multiboot.h"
#include "pic.h"
#include "printf.h"
#include "serial.h"
#include "test.h"

/*
 * First C code, called from boot.S in long mode with interrupts off.  The
 * multiboot information is copied before anything else can overwrite it.
 */
void guest_start(uint32_t magic, uint32_t info_addr)
{
	bool ok;
	int ret;

	/* Neither touches memory outside the image. */
	serial_init();
	idt_init();
	ok = multiboot_parse(magic, info_addr);
	/*
	 * Firmware may leave the 8259s on the exception vectors with the
	 * timer unmasked (SeaBIOS: base 0x08, IRQ 0 running at 18.2 Hz);
	 * move them out of the way before anything enables interrupts.
	 */
	pic_init();
	printf("%s: guest image %p-%p\n", guest_name, __image_start,
	       __image_end);
	if (!ok)
		test_fail("unusable multiboot entry state (magic %#x, info %#x)",
			  magic, info_addr);
	ret = main();
	if (ret)
		test_fail("main returned %d", ret);
	test_pass();
}
