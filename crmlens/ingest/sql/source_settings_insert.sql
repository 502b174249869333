-- Records the source's settings (after the previous row was deleted).
insert into ops.source_settings (source, as_of, labels, recorded_at)
values ($source, $as_of, $labels, $recorded_at)
