#include "dnn.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

static char *dup_message(const char *what, const char *msg) {
    std::string s(what);
    s += ": ";
    s += msg ? msg : "unknown error";
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out) std::memcpy(out, s.c_str(), s.size() + 1);
    return out;
}

static VididNet finish_read(cv::dnn::Net net, char **err) {
    if (net.empty()) {
        *err = dup_message("readNetFromONNX", "empty network");
        return nullptr;
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return new cv::dnn::Net(net);
}

extern "C" VididNet vidid_net_read_onnx_buffer(const char *data, size_t len, char **err) {
    *err = nullptr;
    try {
        return finish_read(cv::dnn::readNetFromONNX(data, len), err);
    } catch (const std::exception &e) {
        *err = dup_message("readNetFromONNX", e.what());
    } catch (...) {
        *err = dup_message("readNetFromONNX", "non-standard C++ exception");
    }
    return nullptr;
}

extern "C" void vidid_net_close(VididNet net) {
    delete static_cast<cv::dnn::Net *>(net);
}

extern "C" int vidid_net_forward(VididNet p, void *input, const char **names, int n, void **outs, char **err) {
    *err = nullptr;
    try {
        cv::dnn::Net *net = static_cast<cv::dnn::Net *>(p);
        net->setInput(*static_cast<cv::Mat *>(input));
        std::vector<cv::String> outNames;
        outNames.reserve(n);
        for (int i = 0; i < n; i++) outNames.emplace_back(names[i]);
        std::vector<cv::Mat> blobs;
        net->forward(blobs, outNames);
        if (static_cast<int>(blobs.size()) != n) {
            *err = dup_message("forward", "wrong number of outputs");
            return -1;
        }
        for (int i = 0; i < n; i++) blobs[i].copyTo(*static_cast<cv::Mat *>(outs[i]));
        return 0;
    } catch (const std::exception &e) {
        *err = dup_message("forward", e.what());
    } catch (...) {
        *err = dup_message("forward", "non-standard C++ exception");
    }
    return -1;
}

extern "C" void vidid_set_num_threads(int n) { cv::setNumThreads(n); }

extern "C" int vidid_get_num_threads(void) { return cv::getNumThreads(); }
