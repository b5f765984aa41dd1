/* placeholder */
#include "lib/test.h"
const char guest_name[] = "reset";
int main(void) { return 1; }
