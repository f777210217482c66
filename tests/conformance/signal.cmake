add_test(NAME conformance_signal COMMAND onnorm test --strict
    ${ONNX_NODE}/test_hannwindow
    ${ONNX_NODE}/test_hannwindow_symmetric
    ${ONNX_NODE}/test_hammingwindow
    ${ONNX_NODE}/test_hammingwindow_symmetric
    ${ONNX_NODE}/test_blackmanwindow
    ${ONNX_NODE}/test_blackmanwindow_symmetric
    ${ONNX_NODE}/test_dft
    ${ONNX_NODE}/test_dft_axis
    ${ONNX_NODE}/test_dft_inverse
    ${ONNX_NODE}/test_stft
    ${ONNX_NODE}/test_stft_with_window
    ${ONNX_NODE}/test_melweightmatrix)
