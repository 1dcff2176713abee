// The retention (TTL days per table) from the writer's config.
import type { Retention } from '@kec/store';
import type { WriterConfig } from './config.ts';

export function retentionOf(cfg: WriterConfig): Retention {
  return {
    eventsDays: cfg.eventsDays,
    occurrencesDays: cfg.occurrencesDays,
    rollupDays: cfg.rollupDays,
    incidentsDays: cfg.incidentsDays,
    gapsDays: cfg.gapsDays,
    patternsDays: cfg.patternsDays,
  };
}
