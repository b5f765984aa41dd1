/* placeholder */
#include "lib/test.h"
const char guest_name[] = "smp";
int main(void) { return 1; }
