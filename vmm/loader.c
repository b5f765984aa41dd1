/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* ELF identification (System V ABI, "ELF Header", e_ident[]). */
static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

/*
 * Reads the whole file.  Not mmap: another program truncating the file while
 * we load it would turn a mapping into SIGBUS; read() just returns less.
 */
GBytes *loader_read_file(const char *path, const char *what, GError **error)
{
	struct stat st;
	uint8_t *data;
	size_t done = 0;
	int fd, err;

	/* O_NONBLOCK: opening a FIFO must fail the S_ISREG test, not hang. */
	fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
	if (fd < 0) {
		err = errno;
		g_set_error(error, VESSEL_ERROR,
			    err == EACCES || err == EPERM ? VESSEL_ERROR_PERMISSION : VESSEL_ERROR_IO,
			    "cannot open %s '%s': %s", what, path, g_strerror(err));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_IO, "cannot read %s '%s': %s",
			    what, path, g_strerror(err));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "%s '%s' is a directory: give the path of the %s file itself",
			    what, path, what);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "%s '%s' is not a regular file", what, path);
		close(fd);
		return NULL;
	}
	if (st.st_size == 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "%s '%s' is empty", what, path);
		close(fd);
		return NULL;
	}
	data = g_try_malloc((gsize)st.st_size);
	if (!data) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "%s '%s' (%" PRId64 " MiB) does not fit in this computer's memory",
			    what, path, (int64_t)st.st_size >> 20);
		close(fd);
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_IO, "cannot read %s '%s': %s",
				    what, path, err ? g_strerror(err) : "the file shrank while it was read");
			g_free(data);
			close(fd);
			return NULL;
		}
		done += (size_t)n;
	}
	close(fd);
	return g_bytes_new_take(data, done);
}

bool loader_write_guest(const struct guest_memory *mem, uint64_t guest_phys_addr,
			const void *src, size_t len, const char *what, GError **error)
{
	if (guest_memory_write(mem, guest_phys_addr, src, len))
		return true;
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "cannot place %s at guest address 0x%" PRIx64 " (%zu bytes): it is not guest RAM; use a larger --memory",
		    what, guest_phys_addr, len);
	return false;
}

bool loader_setup_boot_segments(const struct guest_memory *mem, bool long_mode,
				struct x86_cpu_state *cpu, GError **error)
{
	uint64_t gdt[LOADER_BOOT_GDT_ENTRIES] = { 0 };
	uint8_t tss[LOADER_BOOT_TSS_SIZE] = { 0 };

	/*
	 * Linux boot protocol, "32-bit Boot Protocol" and "64-bit Boot
	 * Protocol": __BOOT_CS (0x10) flat execute/read, __BOOT_DS (0x18) flat
	 * read/write.  Entry 1 (0x08) stays null, as in the kernel's own boot GDT.
	 * Multiboot 0.6.96 §3.2 asks the same of CS and the data segments.
	 */
	cpu->cs = x86_flat_segment(LOADER_BOOT_CS, X86_SEG_TYPE_CODE_RX_ACCESSED, long_mode);
	cpu->ds = x86_flat_segment(LOADER_BOOT_DS, X86_SEG_TYPE_DATA_RW_ACCESSED, false);
	cpu->es = cpu->fs = cpu->gs = cpu->ss = cpu->ds;

	/*
	 * Intel SDM Vol. 3A §7.2.3: a loaded TR must be a busy TSS (type 0xb is
	 * "busy 32-bit TSS", and "busy 64-bit TSS" in IA-32e mode); VM entry
	 * checks this (§27.3.1.2).  In long mode the descriptor takes two GDT
	 * slots; the upper one holds base[63:32], zero here.  I/O map base past
	 * the limit: no I/O permission bitmap.
	 */
	cpu->tr = (struct x86_segment){
		.base = LOADER_BOOT_TSS_ADDR, .limit = LOADER_BOOT_TSS_SIZE - 1,
		.selector = LOADER_BOOT_TSS, .type = X86_SEG_TYPE_TSS_BUSY, .present = true,
	};
	tss[0x66] = LOADER_BOOT_TSS_SIZE;
	cpu->ldt = (struct x86_segment){ .type = X86_SEG_TYPE_LDT, .unusable = true };

	gdt[LOADER_BOOT_CS / 8] = x86_segment_to_descriptor(&cpu->cs);
	gdt[LOADER_BOOT_DS / 8] = x86_segment_to_descriptor(&cpu->ds);
	gdt[LOADER_BOOT_TSS / 8] = x86_segment_to_descriptor(&cpu->tr);

	cpu->gdt = (struct x86_table_register){ LAYOUT_BOOT_GDT_ADDR, sizeof(gdt) - 1 };
	/* No IDT: interrupts are off and the kernel loads its own first. */
	cpu->idt = (struct x86_table_register){ 0, 0 };

	G_STATIC_ASSERT(LAYOUT_BOOT_GDT_ADDR + sizeof(gdt) <= LOADER_BOOT_TSS_ADDR);
	G_STATIC_ASSERT(LOADER_BOOT_TSS_ADDR + LOADER_BOOT_TSS_SIZE <= LAYOUT_BOOT_PARAMS_ADDR);
	return loader_write_guest(mem, LAYOUT_BOOT_GDT_ADDR, gdt, sizeof(gdt), "the boot GDT", error) &&
	       loader_write_guest(mem, LOADER_BOOT_TSS_ADDR, tss, sizeof(tss), "the boot TSS", error);
}

static bool loader_is_elf(const uint8_t *image, size_t size)
{
	return size >= sizeof(elf_magic) && memcmp(image, elf_magic, sizeof(elf_magic)) == 0;
}

bool loader_load(const struct guest_memory *mem, const struct boot_config *config,
		 struct boot_entry *entry, GError **error)
{
	g_autoptr(GBytes) kernel = NULL;
	const uint8_t *image;
	size_t size;

	memset(entry, 0, sizeof(*entry));
	kernel = loader_read_file(config->kernel_path, "kernel", error);
	if (!kernel)
		return false;
	image = (const uint8_t *)g_bytes_get_data(kernel, NULL);
	size = g_bytes_get_size(kernel);

	/*
	 * bzImage first: its signature sits at fixed offsets, while a multiboot
	 * magic could in principle occur by chance inside a bzImage's first 8 KiB.
	 */
	if (loader_linux_probe(image, size))
		return loader_linux_load(mem, config, image, size, entry, error);
	if (loader_multiboot_probe(image, size))
		return loader_multiboot_load(mem, config, image, size, entry, error);

	if (loader_is_elf(image, size)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is not a kernel vessel-vmm can boot: it is an ELF file without a multiboot header; "
			    "for Linux (an uncompressed vmlinux?) use the compressed bzImage, e.g. /boot/vmlinuz-*",
			    config->kernel_path);
		return false;
	}
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
		    "'%s' is not a kernel vessel-vmm can boot: expected a Linux bzImage or a multiboot ELF kernel",
		    config->kernel_path);
	return false;
}
