/* The cache methods of the Manager interface. */
#pragma once

#include <systemd/sd-bus.h>

int method_cache_stats(sd_bus_message *msg, void *userdata, sd_bus_error *err);
int method_cache_list(sd_bus_message *msg, void *userdata, sd_bus_error *err);
int method_cache_purge(sd_bus_message *msg, void *userdata, sd_bus_error *err);
int method_cache_verify(sd_bus_message *msg, void *userdata, sd_bus_error *err);
