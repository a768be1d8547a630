/*
 * udp_telemetry.c: a control loop that reports over UDP, in Wasm, the same
 * module on the host (BSD sockets) and on mps2-an386 (lwIP under QEMU).
 *
 *     udp_telemetry READINGS ADDRESS [PORT]     (PORT default 9000)
 *
 * Every PERIOD_MS it steps a simulated heater (a first-order thermal plant)
 * under a PI controller and, once a ground station has subscribed, sends it
 * one datagram per period:
 *
 *     seq=12 t=240 temp=31.52 setpoint=60.00 out=100.0
 *
 * The station subscribes by sending "subscribe" to ADDRESS:PORT (the reply
 * address is the one its datagram came from, as recv-from reports it) and
 * may send "setpoint 40" at any time.  The socket is non-blocking, so
 * waiting for commands never holds up the loop: each period takes whatever
 * datagrams arrived and goes on.  Where the readings may go is what the
 * firmware (or `waft run --allow-connect`) grants; anything else is `acces`.
 * After READINGS readings it prints a summary and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware_net.h"

#define PERIOD_MS 20
#define FDFLAGS_NONBLOCK 4 /* p1's fdflags: the socket's options in `open` */

typedef wasi_ext_sockets_sockets_ip_socket_address_t address;

/* The plant: temperature rises with the heater's output and falls toward ambient. */
static float temperature = 20.0f, integral;
static const float ambient = 20.0f;

static float control(float setpoint, float dt) {
    float error = setpoint - temperature;
    float out = 4.0f * error + 2.0f * (integral + error * dt);
    if (out > 100.0f) {
        out = 100.0f;
    } else if (out < 0.0f) {
        out = 0.0f;
    } else {
        integral += error * dt; /* anti-windup: integrate only while not saturated */
    }
    temperature += dt * (0.5f * out - 0.8f * (temperature - ambient)) / 2.0f;
    return out;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        printf("usage: udp_telemetry READINGS ADDRESS [PORT]\n");
        return 2;
    }
    int readings = atoi(argv[1]);
    address local = {.tag = WASI_EXT_SOCKETS_SOCKETS_IP_SOCKET_ADDRESS_IPV4};
    const char *text = argv[2];
    uint8_t *ip = &local.val.ipv4.address.f0;
    for (int i = 0; i < 4; i++) {
        ip[i] = (uint8_t)strtoul(text, (char **)&text, 10);
        if (*text == '.') text++;
    }
    local.val.ipv4.port = (uint16_t)(argc > 3 ? atoi(argv[3]) : 9000);

    firmware_net_result_fd_errno_t opened;
    wasi_ext_sockets_sockets_open(WASI_EXT_SOCKETS_SOCKETS_IP_ADDRESS_FAMILY_IPV4,
                                  WASI_EXT_SOCKETS_SOCKETS_SOCKET_TYPE_UDP, FDFLAGS_NONBLOCK, &opened);
    int err = opened.is_err ? opened.val.err : wasi_ext_sockets_sockets_bind(opened.val.ok, &local);
    if (err != 0) {
        printf("udp_telemetry: port %u: errno %d\n", local.val.ipv4.port, err);
        return 1;
    }
    int fd = (int)opened.val.ok;
    printf("udp_telemetry: on port %u\n", local.val.ipv4.port);
    fflush(stdout);

    address station;
    bool subscribed = false;
    float setpoint = 60.0f;
    int sent = 0, refused = 0, commands = 0;
    struct timespec period = {0, PERIOD_MS * 1000000L};
    for (uint32_t step = 0; sent < readings; step++) {
        /* Commands that arrived since the last period (again: none waiting). */
        for (;;) {
            char cmd[32];
            firmware_net_result_received_errno_t r;
            wasi_ext_sockets_sockets_recv_from(fd, (uintptr_t)cmd, sizeof cmd - 1, 0, &r);
            if (r.is_err) break;
            cmd[r.val.ok.length] = '\0';
            if (strcmp(cmd, "subscribe") == 0) {
                station = r.val.ok.remote;
                subscribed = true;
                commands++;
            } else if (strncmp(cmd, "setpoint ", 9) == 0) {
                setpoint = strtof(cmd + 9, NULL);
                commands++;
            }
        }
        float out = control(setpoint, PERIOD_MS / 1000.0f);
        if (subscribed) {
            char line[96];
            int n = snprintf(line, sizeof line, "seq=%d t=%u temp=%.2f setpoint=%.2f out=%.1f", sent,
                             (unsigned)(step * PERIOD_MS), temperature, setpoint, out);
            firmware_net_list_u8_t data = {(uint8_t *)line, (size_t)n};
            firmware_net_result_u32_errno3_t r;
            wasi_ext_sockets_sockets_send_to(fd, &data, &station, &r);
            if (r.is_err) {
                refused++; /* not granted (acces), or no buffer: this reading is lost, the loop goes on */
            }
            sent++;
        }
        nanosleep(&period, NULL);
    }
    printf("udp_telemetry: %d readings sent (%d refused), %d commands, temperature %.1f (setpoint %.1f)\n", sent,
           refused, commands, temperature, setpoint);
    return 0;
}
