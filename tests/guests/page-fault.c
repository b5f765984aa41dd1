/* placeholder */
#include "lib/test.h"
const char guest_name[] = "page-fault";
int main(void) { return 1; }
