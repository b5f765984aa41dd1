/* placeholder */
#include "lib/test.h"
const char guest_name[] = "pci";
int main(void) { return 1; }
