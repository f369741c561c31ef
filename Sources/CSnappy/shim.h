// Snappy's C API (snappy-c.h) for the snappy codec of Kafka record batches.
#ifndef SWITCHBACK_CSNAPPY_SHIM_H
#define SWITCHBACK_CSNAPPY_SHIM_H
#include <snappy-c.h>
#endif
