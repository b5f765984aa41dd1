/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholder: being written (issue 6). */
#include "vm_process.h"
