hessa_add_c_test(test_random ${CMAKE_CURRENT_LIST_DIR}/test_random.c)
hessa_add_c_test(test_errors ${CMAKE_CURRENT_LIST_DIR}/test_errors.c)
hessa_add_c_test(test_streams ${CMAKE_CURRENT_LIST_DIR}/test_streams.c RANKS 1)
