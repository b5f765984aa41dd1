/* placeholder */
#include "lib/test.h"
const char guest_name[] = "pit-ioapic";
int main(void) { return 1; }
