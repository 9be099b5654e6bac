// The public header compiles as C++ and links with C linkage.
#include <rill.h>

int main()
{
    rill_model *m = nullptr;
    int rc = rill_model_new(&m, RILL_LOGISTIC, 2, 2);
    rill_model_free(m);
    return rc == RILL_OK ? 0 : 1;
}
