/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* COM1, a 16550A at the standard PC address and IRQ. */
#define COM1_BASE	0x3f8
#define COM1_IRQ	4

/* 16550A register offsets (PC16550D datasheet, table II). */
#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_IIR	2	/* interrupt identification (read) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_MSR	6	/* modem status */
#define UART_SCR	7	/* scratch */

#define UART_IER_RDA	0x01	/* received data available */
#define UART_IIR_NO_INT	0x01
#define UART_LCR_8N1	0x03
#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT2	0x08	/* gates the IRQ line on PC serial cards */
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s);
/* Returns the next received byte, or -1 if none is waiting (polls LSR). */
int serial_poll_getc(void);

/*
 * Interrupt-driven receive: IER.RDA and MCR.OUT2 on, IRQ 4 unmasked on
 * the 8259 (which the caller has initialised with pic_init), bytes queued
 * by the handler on `vector`.
 */
void serial_rx_irq_start(uint8_t vector);
void serial_rx_irq_stop(void);
/* Next byte the interrupt handler queued, or -1 (call with IF=0). */
int serial_rx_irq_getc(void);
uint32_t serial_rx_irq_count(void);

#endif
