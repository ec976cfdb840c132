/**
 * Deepgram's pre-recorded response (`POST /v1/listen`), as the contract documents it
 * (shared/contracts/deepgram.md §2). Field names are Deepgram's, on purpose.
 */

export interface DeepgramWord {
  /** Lower-case, no punctuation. For merged tokens (formatted numbers, redactions) the merged form. */
  word: string;
  start: number;
  end: number;
  confidence: number;
  /** Display form; present when punctuation or formatting was requested. */
  punctuated_word?: string;
}

export interface DeepgramSentence {
  text: string;
  start: number;
  end: number;
}

export interface DeepgramParagraph {
  sentences: DeepgramSentence[];
  num_words: number;
  start: number;
  end: number;
}

export interface DeepgramParagraphs {
  /** Begins with "\n"; paragraphs separated by "\n\n" (as in recorded real responses). */
  transcript: string;
  paragraphs: DeepgramParagraph[];
}

export interface DeepgramAlternative {
  transcript: string;
  confidence: number;
  words: DeepgramWord[];
  paragraphs?: DeepgramParagraphs;
}

export interface DeepgramSearchHit {
  confidence: number;
  start: number;
  end: number;
  snippet: string;
}

export interface DeepgramSearch {
  query: string;
  hits: DeepgramSearchHit[];
}

export interface DeepgramChannel {
  search?: DeepgramSearch[];
  alternatives: DeepgramAlternative[];
  detected_language?: string;
  language_confidence?: number;
}

export interface DeepgramUtterance {
  start: number;
  end: number;
  confidence: number;
  channel: number;
  transcript: string;
  words: DeepgramWord[];
  id: string;
}

export interface DeepgramWarning {
  parameter: string;
  type: string;
  message: string;
}

export interface DeepgramModelInfo {
  name: string;
  version: string;
  arch: string;
}

export interface DeepgramMetadata {
  transaction_key: "deprecated";
  request_id: string;
  sha256: string;
  created: string;
  duration: number;
  channels: number;
  models: string[];
  model_info: Record<string, DeepgramModelInfo>;
  tags?: string[];
  extra?: Record<string, string>;
  warnings?: DeepgramWarning[];
}

export interface DeepgramResponse {
  metadata: DeepgramMetadata;
  results: {
    channels: DeepgramChannel[];
    utterances?: DeepgramUtterance[];
  };
}
