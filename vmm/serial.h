/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_SERIAL_H
#define VESSEL_VMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

/*
 * A 16550A UART (National Semiconductor PC16550D data sheet) as COM1.
 * Transmission is instantaneous: THR writes go straight to the output fd.
 * Host input waits in a bounded backlog and enters the 16-byte receive FIFO
 * as the guest drains it.
 */
#define SERIAL_COM1_PORT	0x3f8
#define SERIAL_COM1_GSI		4
#define SERIAL_PORT_COUNT	8
#define SERIAL_BACKLOG_BYTES	4096

struct serial;

/* out_fd < 0 discards output.  The fd stays owned by the caller. */
struct serial *serial_new(struct irq_line irq, int out_fd);
void serial_free(struct serial *serial);
void serial_reset(struct serial *serial);

/* Host -> guest.  Returns how many bytes were taken (the rest: retry later). */
size_t serial_receive(struct serial *serial, const uint8_t *data, size_t len);

extern const struct bus_ops serial_bus_ops;

#endif
