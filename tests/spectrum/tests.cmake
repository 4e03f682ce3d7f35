# Spectrum layer: extremes, full spectrum, SLQ density and trace against closed forms
# (quadratic with a prescribed spectrum), the same answers at 1, 2 and 3 ranks.
hessa_add_c_test(test_spectrum_quadratic ${CMAKE_CURRENT_LIST_DIR}/test_spectrum_quadratic.c TIMEOUT 300)
