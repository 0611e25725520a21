/** docker-style adjective_surname names for containers started without --name. */
import { randomInt } from '../util/random.js';

const LEFT = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'boring',
  'brave', 'busy', 'charming', 'clever', 'cool', 'compassionate', 'competent', 'confident', 'crazy', 'dazzling',
  'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated', 'elegant', 'epic', 'exciting',
  'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted', 'goofy',
  'gracious', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible', 'inspiring', 'jolly', 'jovial',
  'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty',
  'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical',
  'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly',
  'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled',
  'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const RIGHT = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bell', 'bhabha', 'blackwell',
  'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brown', 'burnell', 'cannon', 'carson', 'cerf',
  'chandrasekhar', 'clarke', 'curie', 'darwin', 'davinci', 'dijkstra', 'dirac', 'driscoll', 'easley', 'einstein',
  'elbakyan', 'engelbart', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo',
  'gauss', 'goldberg', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hermann', 'hertz', 'hodgkin', 'hopper',
  'hypatia', 'jackson', 'jang', 'johnson', 'kalam', 'keller', 'kepler', 'khayyam', 'knuth', 'kowalevski',
  'lalande', 'lamarr', 'leakey', 'leavitt', 'lovelace', 'lumiere', 'margulis', 'mayer', 'mccarthy', 'mclean',
  'meitner', 'mendel', 'mirzakhani', 'montalcini', 'moore', 'morse', 'napier', 'nash', 'newton', 'nobel',
  'noether', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy', 'raman', 'ritchie',
  'rosalind', 'shannon', 'shaw', 'sinoussi', 'stonebraker', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing',
  'varahamihira', 'villani', 'wescoff', 'wilbur', 'wiles', 'williams', 'wing', 'wozniak', 'wright', 'yalow',
];

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const a = LEFT[randomInt(LEFT.length)]!;
    const b = RIGHT[randomInt(RIGHT.length)]!;
    const name = i < 10 ? `${a}_${b}` : `${a}_${b}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
}
