// Plain C header over the small part of cv::dnn that vidid uses. Every call
// catches C++ exceptions and reports them as a malloc'ed message in *err
// (freed by the caller), so a bad model or input never aborts the process.
#ifndef VIDID_OCV_DNN_H
#define VIDID_OCV_DNN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *VididNet;

// vidid_net_read_onnx_buffer loads an ONNX model from memory (len bytes).
// On failure it returns NULL and sets *err.
VididNet vidid_net_read_onnx_buffer(const char *data, size_t len, char **err);

// vidid_net_close frees the network. NULL is allowed.
void vidid_net_close(VididNet net);

// vidid_net_forward sets input (a cv::Mat*) as the network's input and
// computes the outputs named in names[0..n-1], copying each into the
// cv::Mat* in outs[i] (reusing its memory when the shape is unchanged).
// It returns 0 on success, -1 with *err set on failure.
int vidid_net_forward(VididNet net, void *input, const char **names, int n, void **outs, char **err);

// vidid_set_num_threads calls cv::setNumThreads (process-wide).
void vidid_set_num_threads(int n);

// vidid_get_num_threads returns cv::getNumThreads().
int vidid_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif
