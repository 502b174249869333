"""Revenue forecasting: statistical forecasts chosen by backtest, the pipeline forecast,
scenarios, and forecast-vs-actual tracking.

    series      metric × grain × segment series from the marts (complete periods only)
    methods     naive, seasonal naive, ETS, SARIMAX, Theta: point + 80/95 % intervals
    backtest    rolling origin: fit on the past only; MASE, sMAPE, MAE, coverage by horizon
    select      seasonal period, choice per series, short-series fallback, interval calibration
    batch       backtest-and-select many series in parallel processes
    reconcile   segments made to add up to the total
    deals       the deals the pipeline forecast reads (snapshots, open, won)
    pipeline    open deals × calibrated win probability, slippage, weighted pipeline
    blend       pipeline vs statistical: backtest, weights, the quarter table and scenarios
    assemble    one publication: every table of it, recorded in ml.*
    accuracy    published forecasts against actuals
    evaluate    out-of-sample evaluation of backtest-and-select (and the retail protocol)
    tracking    the MLflow run of a publication
"""
