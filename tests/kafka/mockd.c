/* mockd: librdkafka's mock Kafka cluster as a process of its own, for the Kafka tests.
 * It speaks the real wire protocol on loopback, so kcat and logwash connect to it as to any
 * broker. It prints the bootstrap address, then reads commands on stdin, one per line,
 * answering each with "ok" or "error: ..." on stdout:
 *   topic NAME PARTITIONS      create a topic (the mock has no Admin API)
 *   down ID | up ID            take broker ID (-1: all) down or bring it back
 *   error APIKEY CODE [COUNT]  fail the next COUNT (default 1) requests of APIKEY with CODE
 *                              (Produce 0, Fetch 1, OffsetCommit 8; CODE -195 is a disconnect)
 *   clear APIKEY               drop the pending errors of APIKEY
 *   rtt ID MS                  delay broker ID's responses by MS milliseconds
 *   topicerr NAME CODE         answer metadata requests for topic NAME with error CODE
 *                              (3 unknown, 29 not authorized; 0 clears it)
 *   leader NAME PART ID        make broker ID the leader of partition PART of topic NAME
 *   coord GROUP ID             make broker ID the coordinator of consumer group GROUP
 *   berror ID APIKEY CODE [COUNT]  like error, for requests to broker ID only
 *   quit                       stop (so do SIGINT and SIGTERM; end of input does not: the
 *                              cluster stays up until a signal, so `mockd </dev/null &` works)
 * Usage: mockd [-b BROKERS] [-f FILE] [TOPIC:PARTITIONS ...]; -f also writes the address to
 * FILE once the cluster is up. This is test code, not part of logwash. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int
topic(rd_kafka_mock_cluster_t *mc, const char *name, int parts)
{
    if (parts < 1) return -1;
    return rd_kafka_mock_topic_create(mc, name, parts, 1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* command: run one command line; returns 0 ok, -1 error (message in err), 1 quit. */
static int
command(rd_kafka_mock_cluster_t *mc, char *line, char *err, size_t errcap)
{
    char name[256];
    int a, b, c;
    if (sscanf(line, "topic %255s %d", name, &a) == 2) {
        if (topic(mc, name, a) == 0) return 0;
        snprintf(err, errcap, "cannot create topic %s with %d partitions", name, a);
        return -1;
    }
    if (sscanf(line, "down %d", &a) == 1) return rd_kafka_mock_broker_set_down(mc, a) ? -1 : 0;
    if (sscanf(line, "up %d", &a) == 1) return rd_kafka_mock_broker_set_up(mc, a) ? -1 : 0;
    int n = sscanf(line, "error %d %d %d", &a, &b, &c);
    if (n >= 2) {
        if (n == 2) c = 1;
        if (c < 1 || c > 100000) {
            snprintf(err, errcap, "count must be 1 to 100000");
            return -1;
        }
        rd_kafka_resp_err_t *errs = calloc((size_t)c, sizeof *errs);
        if (errs == NULL) abort();
        for (int i = 0; i < c; i++)
            errs[i] = (rd_kafka_resp_err_t)b;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)c, errs);
        free(errs);
        return 0;
    }
    int d, e = 1;
    if (sscanf(line, "berror %d %d %d %d", &d, &a, &b, &e) >= 3) {
        if (e < 1 || e > 100000) {
            snprintf(err, errcap, "count must be 1 to 100000");
            return -1;
        }
        for (int i = 0; i < e; i++)
            if (rd_kafka_mock_broker_push_request_error_rtts(mc, d, (int16_t)a, 1,
                                                             (rd_kafka_resp_err_t)b, 0))
                return -1;
        return 0;
    }
    if (sscanf(line, "clear %d", &a) == 1) {
        rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
        return 0;
    }
    if (sscanf(line, "topicerr %255s %d", name, &a) == 2) {
        rd_kafka_mock_topic_set_error(mc, name, (rd_kafka_resp_err_t)a);
        return 0;
    }
    if (sscanf(line, "leader %255s %d %d", name, &a, &b) == 3)
        return rd_kafka_mock_partition_set_leader(mc, name, a, b) ? -1 : 0;
    if (sscanf(line, "coord %255s %d", name, &a) == 2)
        return rd_kafka_mock_coordinator_set(mc, "group", name, a) ? -1 : 0;
    if (sscanf(line, "rtt %d %d", &a, &b) == 2)
        return rd_kafka_mock_broker_set_rtt(mc, a, b) ? -1 : 0;
    if (strncmp(line, "quit", 4) == 0) return 1;
    snprintf(err, errcap, "unknown command (see the comment atop mockd.c)");
    return -1;
}

int
main(int argc, char **argv)
{
    int brokers = 3, opt;
    const char *file = NULL;
    while ((opt = getopt(argc, argv, "b:f:")) != -1) {
        if (opt == 'b')
            brokers = atoi(optarg);
        else if (opt == 'f')
            file = optarg;
        else {
            fprintf(stderr, "usage: mockd [-b BROKERS] [-f FILE] [TOPIC:PARTITIONS ...]\n");
            return 2;
        }
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "mockd: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "mockd: cannot start the mock cluster\n");
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        char *colon = strrchr(argv[i], ':');
        if (colon == NULL) {
            fprintf(stderr, "mockd: %s: expected TOPIC:PARTITIONS\n", argv[i]);
            return 2;
        }
        *colon = '\0';
        if (topic(mc, argv[i], atoi(colon + 1)) != 0) {
            fprintf(stderr, "mockd: cannot create topic %s\n", argv[i]);
            return 1;
        }
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", boot);
    fflush(stdout);
    if (file != NULL) {
        FILE *f = fopen(file, "w");
        if (f == NULL || fprintf(f, "%s\n", boot) < 0 || fclose(f) != 0) {
            fprintf(stderr, "mockd: cannot write %s\n", file);
            return 1;
        }
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char line[1024];
    while (!stop && fgets(line, sizeof line, stdin) != NULL) {
        char err[300] = "failed";
        int r = command(mc, line, err, sizeof err);
        if (r == 1) break;
        printf(r == 0 ? "ok\n" : "error: %s\n", err);
        fflush(stdout);
    }
    /* End of input does not mean "stop" when started with </dev/null: wait for a signal. */
    while (!stop && feof(stdin) && !isatty(0))
        pause();
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
