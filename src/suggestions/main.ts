/** Composition root of suggestions (event F). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { SuggestionsDefinition } from '../gen/causeway/v1/suggestions';
import catalog from '../catalog/catalog.json';
import { Recommender, type CatalogBook } from './recommender';
import { SuggestionsService } from './service';

runMain('suggestions', async () => {
  const root = new ParticipantRoot('suggestions');
  root.container.register(Recommender, { useValue: new Recommender(catalog as CatalogBook[]) });
  const service = root.container.resolve(SuggestionsService);
  await root.start((server) => server.add(SuggestionsDefinition, service));
});
