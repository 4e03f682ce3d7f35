# Landscape scans: HessaScanRun against independent answers (checkpoint losses, closed forms
# on the quadratic, filter norms, grouping), then the real `hessa landscape` against PyTorch
# and on bad input, at 1, 2 and 3 ranks.
hessa_add_c_test(test_landscape_scan ${CMAKE_CURRENT_LIST_DIR}/test_landscape_scan.c TIMEOUT 240 LABELS landscape)
