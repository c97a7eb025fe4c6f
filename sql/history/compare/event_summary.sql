-- Events added, dropped (and of those, how many just left the window), changed, unchanged.
SELECT coalesce(event_type, '(no event type)') AS event_type,
       count(*) FILTER (WHERE change = 'added') AS added,
       count(*) FILTER (WHERE change = 'dropped') AS dropped,
       count(*) FILTER (WHERE change = 'dropped' AND left_window) AS dropped_left_window,
       count(*) FILTER (WHERE change = 'changed') AS changed,
       count(*) FILTER (WHERE change = 'unchanged') AS unchanged
FROM cmp_events
GROUP BY ALL
ORDER BY event_type
