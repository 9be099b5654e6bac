/* Shared main() for the Check suites: optional argv[1] = data directory; a sensible default
 * timeout unless CK_DEFAULT_TIMEOUT is set. Include once, after defining the suite function. */
#ifndef RILL_TESTS_TMAIN_H
#define RILL_TESTS_TMAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ref.h"

#define RILL_TEST_MAIN(make_suite)                                                             \
    int main(int argc, char **argv)                                                            \
    {                                                                                          \
        SRunner *sr;                                                                           \
        int failed;                                                                            \
        if (argc > 1)                                                                          \
            ref_set_data_dir(argv[1]);                                                         \
        /* read by tcase_create(): must be set before the suite is built */                   \
        setenv("CK_DEFAULT_TIMEOUT", "120", 0);                                                \
        setvbuf(stdout, NULL, _IOLBF, 0);                                                      \
        sr = srunner_create(make_suite());                                                     \
        srunner_run_all(sr, CK_NORMAL);                                                        \
        failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                      \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                      \
    }

#endif
