/* committed: print a consumer group's committed offsets for one topic, one "PARTITION OFFSET"
 * line per partition (-1001 when nothing is committed), as the brokers report them. The Kafka
 * tests use it to check what logwash committed. This is test code, not part of logwash.
 * With meta, each offset's commit metadata follows it; with set, commit offset OFFSET of partition
 * PART with metadata META instead (as another tool would).
 * Usage: committed BROKERS GROUP TOPIC [meta | set PART OFFSET META] */
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    bool set = argc == 8 && strcmp(argv[4], "set") == 0;
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "meta") == 0) && !set) {
        fprintf(stderr, "usage: committed BROKERS GROUP TOPIC [meta | set PART OFFSET META]\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", argv[1], err, sizeof err) ||
        rd_kafka_conf_set(c, "group.id", argv[2], err, sizeof err) ||
        rd_kafka_conf_set(c, "log_level", "3", err, sizeof err)) {
        fprintf(stderr, "committed: %s\n", err);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "committed: %s\n", err);
        return 1;
    }
    if (set) {
        rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_t *t =
            rd_kafka_topic_partition_list_add(pl, argv[3], atoi(argv[5]));
        t->offset = atoll(argv[6]);
        t->metadata = strdup(argv[7]);
        t->metadata_size = strlen(argv[7]);
        rd_kafka_resp_err_t e = rd_kafka_commit(rk, pl, 0);
        rd_kafka_topic_partition_list_destroy(pl);
        rd_kafka_destroy(rk);
        if (e) fprintf(stderr, "committed: %s\n", rd_kafka_err2str(e));
        return e ? 1 : 0;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[3], NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "committed: no metadata for %s: %s\n", argv[3],
                rd_kafka_err2str(e ? e : md->topics[0].err));
        return 1;
    }
    rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(0);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(pl, argv[3], md->topics[0].partitions[i].id);
    rd_kafka_metadata_destroy(md);
    e = rd_kafka_committed(rk, pl, 10000);
    if (e) {
        fprintf(stderr, "committed: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    for (int i = 0; i < pl->cnt; i++)
        if (argc == 5) /* with each offset's metadata */
            printf("%d %lld %.*s\n", (int)pl->elems[i].partition, (long long)pl->elems[i].offset,
                   (int)pl->elems[i].metadata_size,
                   pl->elems[i].metadata ? (const char *)pl->elems[i].metadata : "");
        else
            printf("%d %lld\n", (int)pl->elems[i].partition, (long long)pl->elems[i].offset);
    rd_kafka_topic_partition_list_destroy(pl);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 0;
}
