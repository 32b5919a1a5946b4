#!/usr/bin/env bash
# kafka-run-class.sh CLASS ARGS...: a Kafka tool on the image's classpath.
exec java ${KAFKA_TOOLS_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    "-Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties" \
    -cp "/opt/kafka/libs/*" "$@"
