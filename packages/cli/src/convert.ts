import { convertLandmarkFolder } from '@keypoints/data';

/** `keypoints convert`: landmark folder → Kaggle-format CSV, printing progress and a summary. */
export async function runConvert(o: { csv: string; images: string; out: string; limit?: number }): Promise<void> {
  let last = 0;
  const result = await convertLandmarkFolder({
    csv: o.csv,
    imagesDir: o.images,
    out: o.out,
    ...(o.limit ? { limit: o.limit } : {}),
    onProgress: (done, total) => {
      if (done === total || done - last >= 250) {
        last = done;
        process.stderr.write(`  converted ${done}/${total}\n`);
      }
    },
  });
  console.log(`${result.out.file}: ${result.rows} faces, ${result.identities} identities (${result.padded} crops padded at the image edge)`);
}
