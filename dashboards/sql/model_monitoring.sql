-- Every drift and calibration check of every family, oldest first. value is the score
-- PSI (drift) or the ECE (calibration); warn_at and block_at are the thresholds the check
-- applied, as its detail records them, else the settings' ($drift_warn, $drift_block,
-- $max_ece).
select
    family,
    kind,
    checked_at,
    run_id,
    model_version,
    scoring_path,
    status,
    value,
    detail ->> 'reasons' as reasons,
    try_cast(detail ->> 'rows' as bigint) as rows,
    case kind
        when 'drift' then coalesce(try_cast(detail ->> 'warn_threshold' as double), $drift_warn)
        when 'calibration' then coalesce(try_cast(detail ->> 'max_ece' as double), $max_ece)
    end as warn_at,
    case kind
        when 'drift' then coalesce(try_cast(detail ->> 'block_threshold' as double), $drift_block)
    end as block_at
from ops.model_monitoring
order by checked_at, family, kind
