// The C surface of librdkafka that Switchback uses: the client API and the in-process mock
// cluster (used by KafkaClient's tests).
#ifndef SWITCHBACK_CRDKAFKA_SHIM_H
#define SWITCHBACK_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
