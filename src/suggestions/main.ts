/** Composition root of suggestions (event F). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { SuggestionsDefinition } from '../gen/causeway/v1/suggestions';
import catalog from '../catalog/catalog.json';
import { Recommender, type CatalogBook } from './recommender';
import { loadSuggestionsConfig } from './config';
import { SUGGESTION_COUNT, SuggestionsService } from './service';

runMain('suggestions', async () => {
  const config = loadSuggestionsConfig();
  const root = new ParticipantRoot('suggestions', config.participant);
  root.container.register(SUGGESTION_COUNT, { useValue: config.suggestionCount });
  root.container.register(Recommender, { useValue: new Recommender(catalog as CatalogBook[]) });
  const service = root.container.resolve(SuggestionsService);
  await root.start((server) => server.add(SuggestionsDefinition, service));
});
