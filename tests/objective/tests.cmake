# Objective layer: pure C, MPI-unaware, so one rank is enough.
hessa_add_c_test(test_analytic ${CMAKE_CURRENT_LIST_DIR}/test_analytic.c RANKS 1)
hessa_add_c_test(test_mlp_fd ${CMAKE_CURRENT_LIST_DIR}/test_mlp_fd.c RANKS 1)
hessa_add_c_test(test_mlp_setup ${CMAKE_CURRENT_LIST_DIR}/test_mlp_setup.c RANKS 1)
# Independent answer from PyTorch (float64, double backward); needs /usr/bin/python3 with torch.
hessa_add_c_test(test_mlp_torch ${CMAKE_CURRENT_LIST_DIR}/test_mlp_torch.c RANKS 1 TIMEOUT 300
                 ARGS ${CMAKE_CURRENT_LIST_DIR}/torch_reference.py)
