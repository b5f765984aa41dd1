/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reset: a machine reset through the i8042 (command 0xFE pulses the CPU
 * reset line), as PC operating systems reboot.
 *
 * First boot: writes a magic value to RAM outside the kernel image, prints
 * "first boot" and resets.  Second boot (the VMM reloaded the image and
 * started it again the multiboot way): finds the magic, so RAM survived
 * the reset as it does on a PC, clears it and passes.
 *
 * Run with reboots allowed, the run ends with PASS (status 65).  With
 * --no-reboot the reset itself must end the VMM with status 0: the runner
 * then expects 0 and "first boot".  A reset that does not happen fails.
 */
#include "lib/boot.h"
#include "lib/i8042.h"
#include "lib/lapic.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "reset";

#define MARK_ADDR		0x300000ULL	/* above the image, below 4 MiB */
#define MARK_MAGIC		0x76657373656c2121ULL	/* "vessel!!" */
#define RESET_WAIT_MS		1000

struct reset_mark {
	uint64_t magic;
	uint64_t boots;
};

int main(void)
{
	volatile struct reset_mark *mark = (volatile struct reset_mark *)MARK_ADDR;

	test_assert((uint64_t)__image_end <= MARK_ADDR,
		    "image ends at %p, past the mark at %#llx", __image_end,
		    MARK_ADDR);
	if (mark->magic == MARK_MAGIC) {
		printf("reset: second boot: found the mark at %#llx (boot %lu)\n",
		       MARK_ADDR, mark->boots + 1);
		test_assert(mark->boots == 1, "mark says %lu boots before this",
			    mark->boots);
		mark->magic = 0;
		mark->boots = 0;
		return 0;
	}

	mark->magic = MARK_MAGIC;
	mark->boots = 1;
	printf("reset: first boot: mark written at %#llx, resetting via i8042 command %#x\n",
	       MARK_ADDR, I8042_CMD_PULSE_RESET);
	i8042_reset();
	/* Still here: give the VMM a moment, then give up. */
	lapic_enable();
	udelay(RESET_WAIT_MS * 1000);
	mark->magic = 0;
	test_fail("no reset within %u ms of the i8042 command", RESET_WAIT_MS);
}
